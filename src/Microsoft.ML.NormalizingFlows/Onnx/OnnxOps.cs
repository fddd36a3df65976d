using Microsoft.ML.NormalizingFlows.Ops;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// The graph-writing interpreter of <see cref="IFlowOps{V}"/>: each operation adds its ONNX node(s) to an
    /// <see cref="OnnxGraph"/> and returns the output's name. State tensors become the graph's initializers; scalars are
    /// shared constants of the graph's element type.
    /// </summary>
    internal sealed class OnnxOps : IFlowOps<string>
    {
        private readonly OnnxGraph g;
        private readonly Dictionary<double, string> scalars = new();
        private readonly Dictionary<long, string> indices = new();
        private string? lastAxis;

        public OnnxOps(OnnxGraph graph)
        {
            g = graph;
        }

        public string State(Tensor stateTensor) => g.State(stateTensor);

        public string Computed(Tensor value)
        {
            return g.Constant(StateTensor.From(value, g.Float64));
        }

        /// <summary>A shared floating scalar constant of the graph's element type.</summary>
        public string Scalar(double value)
        {
            if (!scalars.TryGetValue(value, out string? name)) scalars[value] = name = g.Float64 ? g.Constant(value) : g.Constant((float)value);
            return name;
        }

        public string Add(string a, string b) => g.Add(a, b);

        public string Sub(string a, string b) => g.Sub(a, b);

        public string Mul(string a, string b) => g.Mul(a, b);

        public string Div(string a, string b) => g.Node("Div", new[] { a, b });

        public string Add(string a, double b) => g.Add(a, Scalar(b));

        public string Mul(string a, double b) => g.Mul(a, Scalar(b));

        public string Sub(double a, string b) => g.Sub(Scalar(a), b);

        public string Neg(string a) => g.Node("Neg", new[] { a });

        public string Exp(string a) => g.Node("Exp", new[] { a });

        public string Log(string a) => g.Node("Log", new[] { a });

        public string Tanh(string a) => g.Node("Tanh", new[] { a });

        public string Sqrt(string a) => g.Node("Sqrt", new[] { a });

        public string Square(string a) => g.Mul(a, a);

        public string Relu(string a) => g.Node("Relu", new[] { a });

        // ONNX Runtime's Softplus kernel is float32 only; in float64, max(a, 0) + log(1 + exp(-|a|)), finite for any a.
        public string Softplus(string a) => !g.Float64 ? g.Node("Softplus", new[] { a })
            : g.Add(g.Node("Max", new[] { a, Scalar(0) }), g.Node("Log", new[] { g.Add(Scalar(1), Exp(Neg(g.Node("Abs", new[] { a })))) }));

        public string Clamp(string a, double min, double max) => g.Node("Clip", new[] { a, Scalar(min), Scalar(max) });

        public string ClampMin(string a, double min) => g.Node("Max", new[] { a, Scalar(min) });

        public string Linear(string x, string weight, string bias) => g.Node("Gemm", new[] { x, weight, bias }, ("transB", 1));

        public string MatMul(string a, string b) => g.Node("MatMul", new[] { a, b });

        public string SumLast(string a) => g.Node("ReduceSum", new[] { a, LastAxis() }, ("keepdims", 0));

        // ReduceMax takes its axes as an attribute up to opset 17, and so in ML.NET's opset 12 too.
        public string MaxLast(string a)
        {
            string output = g.Node("ReduceMax", new[] { a }, ("keepdims", 0));
            var axes = new global::Onnx.AttributeProto { Name = "axes", Type = global::Onnx.AttributeProto.Types.AttributeType.Ints };
            axes.Ints.Add(-1);
            g.Proto.Node[^1].Attribute.Add(axes);
            return output;
        }

        public string SoftmaxLast(string a) => g.Node("Softmax", new[] { a }, ("axis", -1));

        public string CumSumLast(string a) => g.Node("CumSum", new[] { a, Index(-1) });

        public string ExclusiveCumSumLast(string a) => g.Node("CumSum", new[] { a, Index(-1) }, ("exclusive", 1));

        public string ExpandAxis(string a, int rank, int axis, long size)
        {
            long[] shape = Enumerable.Repeat(1L, rank).ToArray();
            shape[axis < 0 ? rank + axis : axis] = size;
            return g.Node("Expand", new[] { a, g.Constant(shape) });
        }

        public string IndexNotEqual(string index, long k) => g.Node("Not", new[] { g.Node("Equal", new[] { index, Index(k) }) });

        public string ClampIndex(string index, long min, long max) => g.Node("Clip", new[] { index, Index(min), Index(max) });

        public string Narrow(string a, int axis, long start, long length) => g.Slice(a, axis, start, start + length);

        public string Concat(int axis, params string[] parts) => g.Node("Concat", parts, ("axis", axis));

        public string Reshape(string a, params long[] shape) => g.Node("Reshape", new[] { a, g.Constant(shape) });

        public string SelectColumns(string a, string indexes) => g.Node("Gather", new[] { a, indexes }, ("axis", 1));

        public string CountAtOrAbove(string values, string thresholds) =>
            g.Node("ReduceSum", new[] { g.Node("Cast", new[] { g.Node("GreaterOrEqual", new[] { values, thresholds }) }, ("to", 7)), LastAxis() }, ("keepdims", 1));

        public string AddIndex(string index, long k) => g.Add(index, Index(k));

        public string GatherLast(string table, string index) => g.Node("GatherElements", new[] { table, index }, ("axis", -1));

        public string InRange(string a, double min, double max) =>
            g.Node("And", new[] { g.Node("GreaterOrEqual", new[] { a, Scalar(min) }), g.Node("LessOrEqual", new[] { a, Scalar(max) }) });

        public string Where(string condition, string a, string b) => g.Node("Where", new[] { condition, a, b });

        public string Where(string condition, string a, double b) => Where(condition, a, Scalar(b));

        public string ZerosLike(string like) => g.Node("Expand", new[] { Scalar(0), g.Node("Shape", new[] { like }) });

        // A graph broadcasts a scalar log-determinant where it is summed with per-row values: no Expand needed.
        public string ExpandRows(string scalar, string rows) => scalar;

        private string LastAxis() => lastAxis ??= g.Constant(new[] { -1L });

        private string Index(long value)
        {
            if (!indices.TryGetValue(value, out string? name)) indices[value] = name = g.Constant(value);
            return name;
        }
    }
}
