using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// Builds an ONNX graph for a flow: nodes, initializers taken from the flow's state (parameters and buffers, named
    /// by their TorchSharp state keys), constants, and the graph's inputs and outputs. Layers write their part of the
    /// graph through it (see <see cref="IOnnxExportableLayer"/>).
    /// </summary>
    /// <remarks>
    /// Operators of opset 17 (ReduceSum and Slice take their axes as inputs, as since opset 13). Layers written over
    /// <see cref="Ops.IFlowOps{V}"/> reach it through <see cref="OnnxOps"/>; the node-level members remain for layers
    /// that write their graph by hand.
    /// </remarks>
    public sealed class OnnxGraph
    {
        private readonly GraphProto graph = new() { Name = "normalizing_flow" };
        private readonly IReadOnlyDictionary<string, StateTensor> state;
        private readonly Dictionary<IntPtr, string> stateKeys = new();
        private readonly HashSet<string> added = new();
        private int counter;
        private OnnxOps? ops;

        internal OnnxGraph(TorchSharp.torch.nn.Module flow, bool float64 = false)
        {
            Float64 = float64;
            state = StateTensor.Of(flow, float64);
            foreach ((string key, TorchSharp.torch.Tensor tensor) in flow.named_parameters()) stateKeys[tensor.Handle] = key;
            foreach ((string key, TorchSharp.torch.Tensor tensor) in flow.named_buffers()) stateKeys[tensor.Handle] = key;
        }

        internal GraphProto Proto => graph;

        /// <summary>The graph's context input <c>[N, c]</c> that conditional layers read, or <c>null</c> for an unconditional flow.</summary>
        internal string? Context { get; set; }

        /// <summary>Whether the graph computes in float64 (its inputs, outputs, state and constants); else float32.</summary>
        internal bool Float64 { get; }

        /// <summary>The operations of <see cref="Ops.IFlowOps{V}"/> writing into this graph (shared, so constants are written once).</summary>
        public Ops.IFlowOps<string> Ops => ops ??= new OnnxOps(this);

        /// <summary>The name of the initializer holding the flow's state tensor <paramref name="stateKey"/>, adding it once.</summary>
        /// <param name="stateKey">A key of the flow's <c>state_dict()</c>, for example <c>layers.1.mask</c>.</param>
        /// <returns>The value name to use as a node input.</returns>
        public string State(string stateKey)
        {
            if (!state.TryGetValue(stateKey, out StateTensor? tensor))
                throw new ArgumentException($"The flow has no state tensor '{stateKey}'.", nameof(stateKey));
            string name = stateKey;
            if (added.Add(name)) graph.Initializer.Add(tensor.ToProto(name));
            return name;
        }

        /// <summary>The initializer of one of the flow's own parameters or buffers (found by identity), adding it once.</summary>
        internal string State(TorchSharp.torch.Tensor stateTensor) =>
            stateKeys.TryGetValue(stateTensor.Handle, out string? key) ? State(key)
                : throw new ArgumentException("A layer used a tensor that is not a registered parameter or buffer of the flow; " +
                    "register it (register_buffer, or a Parameter field before RegisterComponents()) so that it is part of the exported graph.");

        /// <summary>A float constant (a scalar, which broadcasts).</summary>
        /// <param name="value">The value.</param>
        /// <returns>The value name.</returns>
        public string Constant(float value) => AddConstant(StateTensor.Float(new[] { value }, Array.Empty<long>()));

        /// <summary>A float vector constant.</summary>
        /// <param name="values">The values.</param>
        /// <returns>The value name.</returns>
        public string Constant(float[] values) => AddConstant(StateTensor.Float(values, new long[] { values.Length }));

        /// <summary>A double (float64) constant, a scalar.</summary>
        /// <param name="value">The value.</param>
        /// <returns>The value name.</returns>
        public string Constant(double value) => AddConstant(StateTensor.Double(new[] { value }, Array.Empty<long>()));

        /// <summary>A double (float64) vector constant.</summary>
        /// <param name="values">The values.</param>
        /// <returns>The value name.</returns>
        public string Constant(double[] values) => AddConstant(StateTensor.Double(values, new long[] { values.Length }));

        /// <summary>A float constant of any shape (for values derived from the flow's state at export, such as a matrix inverse).</summary>
        /// <param name="values">The values, row-major.</param>
        /// <param name="shape">The shape.</param>
        /// <returns>The value name.</returns>
        public string Constant(float[] values, long[] shape) => AddConstant(StateTensor.Float(values, shape));

        internal string Constant(StateTensor values) => AddConstant(values);

        /// <summary>An int64 scalar constant (an axis).</summary>
        /// <param name="value">The value.</param>
        /// <returns>The value name.</returns>
        public string Constant(long value) => AddConstant(StateTensor.Int64(new[] { value }, Array.Empty<long>()));

        /// <summary>An int64 vector constant (indices, shapes).</summary>
        /// <param name="values">The values.</param>
        /// <returns>The value name.</returns>
        public string Constant(long[] values) => AddConstant(StateTensor.Int64(values, new long[] { values.Length }));

        /// <summary>Adds a node with one output and returns the output's name.</summary>
        /// <param name="op">The ONNX operator, for example <c>Gemm</c>.</param>
        /// <param name="inputs">The input value names.</param>
        /// <param name="attributes">Integer attributes, for example <c>("transB", 1)</c>.</param>
        /// <returns>The output value name.</returns>
        public string Node(string op, string[] inputs, params (string Name, long Value)[] attributes)
        {
            string output = NewName(op);
            var node = new NodeProto { OpType = op, Name = output };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            foreach ((string name, long value) in attributes)
                node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
            graph.Node.Add(node);
            return output;
        }

        /// <summary>Element-wise sum of two values (broadcasting).</summary>
        /// <param name="a">The first value name.</param>
        /// <param name="b">The second value name.</param>
        /// <returns>The output value name.</returns>
        public string Add(string a, string b) => Node("Add", new[] { a, b });

        /// <summary>Element-wise difference <c>a - b</c> (broadcasting).</summary>
        /// <param name="a">The first value name.</param>
        /// <param name="b">The second value name.</param>
        /// <returns>The output value name.</returns>
        public string Sub(string a, string b) => Node("Sub", new[] { a, b });

        /// <summary>Element-wise product (broadcasting).</summary>
        /// <param name="a">The first value name.</param>
        /// <param name="b">The second value name.</param>
        /// <returns>The output value name.</returns>
        public string Mul(string a, string b) => Node("Mul", new[] { a, b });

        /// <summary>The sum over the feature axis of a <c>[N, width]</c> value, as <c>[N]</c> (a ReduceSum).</summary>
        /// <param name="value">A value of shape <c>[N, width]</c>.</param>
        /// <returns>The output value name.</returns>
        public string SumOverFeatures(string value) => Ops.SumLast(value);

        /// <summary>Columns <c>[start, end)</c> of a <c>[N, width]</c> value (a Slice on axis 1).</summary>
        /// <param name="value">The value.</param>
        /// <param name="start">The first column.</param>
        /// <param name="end">One past the last column.</param>
        /// <returns>The output value name.</returns>
        public string ColumnRange(string value, long start, long end) => Slice(value, 1, start, end);

        /// <summary>Entries <c>[start, end)</c> of a value along <paramref name="axis"/>.</summary>
        /// <param name="value">The value.</param>
        /// <param name="axis">The axis.</param>
        /// <param name="start">The first index.</param>
        /// <param name="end">One past the last index.</param>
        /// <returns>The output value name.</returns>
        public string Slice(string value, long axis, long start, long end) =>
            Node("Slice", new[] { value, Constant(new[] { start }), Constant(new[] { end }), Constant(new[] { axis }) });

        /// <summary>Gives a value another name (an Identity node), so that it can be a graph output.</summary>
        internal void Rename(string value, string name)
        {
            var node = new NodeProto { OpType = "Identity", Name = "identity_" + name };
            node.Input.Add(value);
            node.Output.Add(name);
            graph.Node.Add(node);
        }

        internal void AddInput(string name, int width) => graph.Input.Add(Retyped(FloatValue(name, width)));

        internal void AddOutput(string name, int width) => graph.Output.Add(Retyped(FloatValue(name, width)));

        private ValueInfoProto Retyped(ValueInfoProto value)
        {
            if (Float64) value.Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Double;
            return value;
        }

        // A float tensor [N] (width 0) or [N, width] with a symbolic batch dimension.
        internal static ValueInfoProto FloatValue(string name, int width)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            if (width > 0) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
            return FloatValue(name, shape);
        }

        // A float tensor of the fixed shape [width].
        internal static ValueInfoProto FixedFloatValue(string name, int width)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
            return FloatValue(name, shape);
        }

        private static ValueInfoProto FloatValue(string name, TensorShapeProto shape)
        {
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }

        /// <summary>Adds every state tensor not yet used by a node, so that the file holds the whole flow.</summary>
        internal void AddRemainingState()
        {
            foreach (string key in state.Keys) State(key);
        }

        private string AddConstant(StateTensor tensor)
        {
            string name = NewName("const");
            graph.Initializer.Add(tensor.ToProto(name));
            return name;
        }

        private string NewName(string stem) => $"{stem}_{counter++}";
    }
}
