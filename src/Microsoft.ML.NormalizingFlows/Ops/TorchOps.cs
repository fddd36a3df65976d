using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Ops
{
    /// <summary>The eager interpreter of <see cref="IFlowOps{V}"/>: each operation is the TorchSharp call (autograd included).</summary>
    internal sealed class TorchOps : IFlowOps<Tensor>
    {
        public static readonly TorchOps Instance = new();

        private TorchOps()
        {
        }

        public Tensor State(Tensor stateTensor) => stateTensor;

        public Tensor Computed(Tensor value) => value;

        public Tensor Add(Tensor a, Tensor b) => a + b;

        public Tensor Sub(Tensor a, Tensor b) => a - b;

        public Tensor Mul(Tensor a, Tensor b) => a * b;

        public Tensor Div(Tensor a, Tensor b) => a / b;

        public Tensor Add(Tensor a, double b) => a + b;

        public Tensor Mul(Tensor a, double b) => a * b;

        public Tensor Sub(double a, Tensor b) => b.neg().add_(a);

        public Tensor Neg(Tensor a) => a.neg();

        public Tensor Exp(Tensor a) => a.exp();

        public Tensor Log(Tensor a) => a.log();

        public Tensor Tanh(Tensor a) => a.tanh();

        public Tensor Sqrt(Tensor a) => a.sqrt();

        public Tensor Square(Tensor a) => a.square();

        public Tensor Relu(Tensor a) => nn.functional.relu(a);

        public Tensor Softplus(Tensor a) => nn.functional.softplus(a);

        public Tensor Clamp(Tensor a, double min, double max) => a.clamp(min, max);

        public Tensor ClampMin(Tensor a, double min) => a.clamp_min(min);

        public Tensor Linear(Tensor x, Tensor weight, Tensor bias) => nn.functional.linear(x, weight, bias);

        public Tensor MatMul(Tensor a, Tensor b) => a.matmul(b);

        public Tensor SumLast(Tensor a) => a.sum(-1);

        public Tensor MaxLast(Tensor a) => a.amax(new long[] { -1 });

        public Tensor SoftmaxLast(Tensor a) => a.softmax(-1);

        public Tensor CumSumLast(Tensor a) => a.cumsum(-1);

        public Tensor ExclusiveCumSumLast(Tensor a) =>
            nn.functional.pad(a.narrow(-1, 0, a.shape[^1] - 1).cumsum(-1), new long[] { 1, 0 });

        public Tensor ExpandAxis(Tensor a, int rank, int axis, long size)
        {
            long[] shape = Enumerable.Repeat(-1L, rank).ToArray();
            shape[axis < 0 ? rank + axis : axis] = size;
            return a.expand(shape);
        }

        public Tensor IndexNotEqual(Tensor index, long k) => index.ne(k);

        public Tensor ClampIndex(Tensor index, long min, long max) => index.clamp(min, max);

        public Tensor Narrow(Tensor a, int axis, long start, long length) => a.narrow(axis, start, length);

        public Tensor Concat(int axis, params Tensor[] parts) => cat(parts, axis);

        public Tensor Reshape(Tensor a, params long[] shape)
        {
            var resolved = new long[shape.Length];
            for (int i = 0; i < shape.Length; i++) resolved[i] = shape[i] == 0 ? a.shape[i] : shape[i];
            return a.reshape(resolved);
        }

        public Tensor SelectColumns(Tensor a, Tensor indices) => a.index_select(1, indices);

        public Tensor CountAtOrAbove(Tensor values, Tensor thresholds) => values.ge(thresholds).sum(-1, keepdim: true, type: ScalarType.Int64);

        public Tensor AddIndex(Tensor index, long k) => index + k;

        public Tensor GatherLast(Tensor table, Tensor index) => table.gather(-1, index);

        public Tensor InRange(Tensor a, double min, double max) => a.ge(min).logical_and_(a.le(max));

        public Tensor Where(Tensor condition, Tensor a, Tensor b) => where(condition, a, b);

        public Tensor Where(Tensor condition, Tensor a, double b) => a.masked_fill(condition.logical_not(), b);

        public Tensor ZerosLike(Tensor like) => zeros_like(like);

        public Tensor ExpandRows(Tensor scalar, Tensor rows) => scalar.expand(rows.shape[0]);
    }
}
