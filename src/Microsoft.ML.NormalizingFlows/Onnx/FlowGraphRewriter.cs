using Onnx;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// Copies a flow file's density graph under other names, so that it can run where value names are given by
    /// someone else: inside ML.NET's <c>ApplyOnnxModel</c> (inputs and outputs named as columns) or appended to ML.NET's
    /// own ONNX export of a pipeline (internal names prefixed to stay apart from ML.NET's). No TorchSharp is needed.
    /// </summary>
    internal static class FlowGraphRewriter
    {
        /// <summary>The names the copy should use.</summary>
        /// <param name="Prefix">Put before every internal value, node and initializer name.</param>
        /// <param name="Input">The value the copy reads its <c>[N, d]</c> features from.</param>
        /// <param name="LogDensity">The name of the log-density output.</param>
        /// <param name="Latent">The name of the latent output, or <c>null</c> to leave it out.</param>
        /// <param name="OneRowPerRun">
        /// Whether the graph runs on one row at a time, as in ML.NET's <c>ApplyOnnxModel</c>: the outputs are then
        /// flattened and declared as <c>[1]</c> and <c>[d]</c>, which ML.NET types as <c>Vector&lt;Single, 1&gt;</c> and
        /// <c>Vector&lt;Single, d&gt;</c> (it would type <c>[N, d]</c> as a <c>[1, d]</c> tensor column).
        /// </param>
        /// <param name="Context">The value the copy reads its <c>[N, k]</c> context from, for a graph with a context input.</param>
        public sealed record Names(string Prefix, string Input, string LogDensity, string? Latent, bool OneRowPerRun, string? Context = null);

        /// <summary>Appends the renamed copy of <paramref name="flowFile"/>'s graph to <paramref name="target"/> (nodes, initializers, outputs).</summary>
        /// <remarks>
        /// A target of opset 12 or older (ML.NET exports at most opset 12) gets the flow's ReduceSum nodes in their old
        /// form, axes as an attribute; every other operator a flow uses means the same from opset 12 to 17.
        /// </remarks>
        public static void AppendTo(GraphProto target, ModelProto flowFile, Names names, int dimension, long targetOpset = FlowOnnx.Opset)
        {
            GraphProto source = flowFile.Graph;
            var existing = new HashSet<string>(target.Node.SelectMany(n => n.Output).Concat(target.Initializer.Select(i => i.Name)).Concat(target.Input.Select(i => i.Name)));
            // A float64 flow's graph computes in float64 between casts from and to the float32 columns.
            bool float64 = source.Input.First(i => i.Name == FlowOnnx.FeaturesName).Type.TensorType.ElemType == (int)TensorProto.Types.DataType.Double;
            string input = float64 ? Cast(target, existing, names.Input, names.Prefix + "features_float64", TensorProto.Types.DataType.Double) : names.Input;
            string? context = null;
            if (source.Input.Any(i => i.Name == FlowOnnx.ContextName))
            {
                context = names.Context ?? throw new InvalidOperationException("The flow's graph reads a context; name the value it comes from.");
                if (float64) context = Cast(target, existing, context, names.Prefix + "context_float64", TensorProto.Types.DataType.Double);
            }
            string Map(string name) => name == FlowOnnx.FeaturesName ? input : name == FlowOnnx.ContextName ? context! : names.Prefix + name;

            // Only what the nodes read: the flow file keeps every state tensor for rebuilding, which running does not need
            // (ONNX Runtime would warn about each unused one).
            var used = new HashSet<string>(source.Node.SelectMany(n => n.Input));
            foreach (TensorProto initializer in source.Initializer.Where(i => used.Contains(i.Name)))
            {
                TensorProto copy = initializer.Clone();
                copy.Name = Map(initializer.Name);
                Add(existing, copy.Name);
                target.Initializer.Add(copy);
            }
            foreach (NodeProto node in source.Node)
            {
                if (names.Latent is null && node.Output.Contains(FlowOnnx.LatentName)) continue;
                NodeProto copy = node.Clone();
                if (targetOpset < 13 && node.OpType == "ReduceSum" && node.Input.Count == 2) AxesAsAttribute(copy, source);
                copy.Name = names.Prefix + node.Name;
                string[] inputs = copy.Input.Select(Map).ToArray();
                copy.Input.Clear();
                copy.Input.AddRange(inputs);
                copy.Output.Clear();
                copy.Output.AddRange(node.Output.Select(Map));
                foreach (string output in copy.Output) Add(existing, output);
                target.Node.Add(copy);
            }

            string? flatShape = null;
            if (names.OneRowPerRun)
            {
                TensorProto shape = StateTensor.Int64(new long[] { -1 }, new long[] { 1 }).ToProto(names.Prefix + "flat_shape");
                Add(existing, shape.Name);
                target.Initializer.Add(shape);
                flatShape = shape.Name;
            }
            string Result(string name) => float64 ? Cast(target, existing, Map(name), Map(name) + "_float32", TensorProto.Types.DataType.Float) : Map(name);
            Output(target, existing, names, Result(FlowOnnx.LogDensityName), names.LogDensity, flatShape, width: 1);
            if (names.Latent is not null) Output(target, existing, names, Result(FlowOnnx.LatentName), names.Latent, flatShape, dimension);
        }

        private static string Cast(GraphProto target, HashSet<string> existing, string value, string name, TensorProto.Types.DataType to)
        {
            var node = new NodeProto { Name = name, OpType = "Cast" };
            node.Input.Add(value);
            node.Output.Add(name);
            node.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)to });
            Add(existing, name);
            target.Node.Add(node);
            return name;
        }

        private static void AxesAsAttribute(NodeProto node, GraphProto source)
        {
            TensorProto axes = source.Initializer.FirstOrDefault(i => i.Name == node.Input[1])
                ?? throw new NotSupportedException($"ReduceSum node '{node.Name}' takes computed axes, which opset 12 cannot express.");
            var attribute = new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(StateTensor.FromProto(axes).Longs!);
            node.Attribute.Add(attribute);
            node.Input.RemoveAt(1);
        }

        // Names a flow output as the caller wants: an Identity, or a flattening Reshape for one-row runs.
        private static void Output(GraphProto target, HashSet<string> existing, Names names, string value, string name, string? flatShape, int width)
        {
            var node = new NodeProto { Name = names.Prefix + "output_" + name, OpType = flatShape is null ? "Identity" : "Reshape" };
            node.Input.Add(value);
            if (flatShape is not null) node.Input.Add(flatShape);
            node.Output.Add(name);
            Add(existing, name);
            target.Node.Add(node);
            target.Output.Add(flatShape is null ? OnnxGraph.FloatValue(name, width == 1 ? 0 : width) : OnnxGraph.FixedFloatValue(name, width));
        }

        private static void Add(HashSet<string> existing, string name)
        {
            if (!existing.Add(name))
                throw new NotSupportedException($"The name '{name}' is used twice in the combined ONNX graph; rename the column that is called so.");
        }
    }
}
