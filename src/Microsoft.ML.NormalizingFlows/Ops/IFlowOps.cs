using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Ops
{
    /// <summary>
    /// The operations a flow's math is written in, once, for two interpreters: <see cref="TorchOps"/> runs them eagerly
    /// on TorchSharp tensors (training, sampling, autograd) and <see cref="Onnx.OnnxOps"/> writes them as ONNX nodes
    /// (export). A value <typeparamref name="V"/> is a tensor or the name of a graph value. Layers, conditioners, the
    /// spline and the base distributions call only these, so the exported graph computes what TorchSharp computes.
    /// </summary>
    /// <remarks>
    /// Shapes follow TorchSharp: element-wise operations broadcast; <c>axis</c> may be negative (from the end). Scalars
    /// take the element type of the tensor they meet (float32 or float64), so one definition serves both precisions.
    /// Every operation is available in ONNX opset 17 with the same meaning; comparisons yield booleans, index
    /// operations int64. A custom layer derives from <see cref="ExportableFlowLayer"/> and writes its map once over
    /// these operations: it then trains in TorchSharp and exports to ONNX with nothing else to write.
    /// </remarks>
    /// <typeparam name="V">The value type: <see cref="Tensor"/> or a graph value name.</typeparam>
    public interface IFlowOps<V>
        where V : class
    {
        /// <summary>A parameter or buffer of the flow (in a graph: its initializer).</summary>
        V State(Tensor stateTensor);

        /// <summary>
        /// A value that TorchSharp code computed from the state (differentiable there, for example a matrix built from
        /// factors); a graph stores its current values as a constant, so both interpreters use the same numbers.
        /// </summary>
        V Computed(Tensor value);

        /// <summary><c>a + b</c>.</summary>
        V Add(V a, V b);
        /// <summary><c>a - b</c>.</summary>
        V Sub(V a, V b);
        /// <summary><c>a * b</c>.</summary>
        V Mul(V a, V b);
        /// <summary><c>a / b</c>.</summary>
        V Div(V a, V b);
        /// <summary><c>a + b</c> for a scalar <c>b</c>.</summary>
        V Add(V a, double b);
        /// <summary><c>a * b</c> for a scalar <c>b</c>.</summary>
        V Mul(V a, double b);

        /// <summary><c>a - b</c> for a scalar <c>a</c>.</summary>
        V Sub(double a, V b);

        /// <summary><c>-a</c>.</summary>
        V Neg(V a);
        /// <summary><c>exp(a)</c>.</summary>
        V Exp(V a);
        /// <summary><c>log(a)</c>, the natural logarithm.</summary>
        V Log(V a);
        /// <summary><c>tanh(a)</c>.</summary>
        V Tanh(V a);
        /// <summary><c>sqrt(a)</c>.</summary>
        V Sqrt(V a);
        /// <summary><c>a * a</c>.</summary>
        V Square(V a);
        /// <summary><c>max(a, 0)</c>.</summary>
        V Relu(V a);

        /// <summary><c>log(1 + exp(a))</c>, finite for any <c>a</c>.</summary>
        V Softplus(V a);

        /// <summary><c>min(max(a, min), max)</c>.</summary>
        V Clamp(V a, double min, double max);
        /// <summary><c>max(a, min)</c>.</summary>
        V ClampMin(V a, double min);

        /// <summary><c>x W^T + b</c> for <c>W [out, in]</c>, <c>b [out]</c>.</summary>
        V Linear(V x, V weight, V bias);

        /// <summary>The matrix product.</summary>
        V MatMul(V a, V b);

        /// <summary>The sum over the last axis, which is removed.</summary>
        V SumLast(V a);

        /// <summary>The maximum over the last axis, which is removed.</summary>
        V MaxLast(V a);

        /// <summary>Softmax over the last axis.</summary>
        V SoftmaxLast(V a);

        /// <summary>The running sum over the last axis.</summary>
        V CumSumLast(V a);

        /// <summary>
        /// The running sum over the last axis without the current entry: <c>[0, a_1, a_1 + a_2, ...]</c>, the same
        /// sequence of additions as <see cref="CumSumLast"/>.
        /// </summary>
        V ExclusiveCumSumLast(V a);

        /// <summary>Repeats a value of rank <paramref name="rank"/> whose axis <paramref name="axis"/> has size 1 to <paramref name="size"/> along it.</summary>
        V ExpandAxis(V a, int rank, int axis, long size);

        /// <summary>Whether each int64 index differs from <paramref name="k"/> (boolean).</summary>
        V IndexNotEqual(V index, long k);

        /// <summary>An int64 index value clamped into <c>[min, max]</c>.</summary>
        V ClampIndex(V index, long min, long max);

        /// <summary>Entries <c>[start, start + length)</c> along <paramref name="axis"/>.</summary>
        V Narrow(V a, int axis, long start, long length);

        /// <summary>Joins values along <paramref name="axis"/>.</summary>
        V Concat(int axis, params V[] parts);

        /// <summary>Reshapes; a 0 keeps that axis's size, one -1 is inferred (ONNX's convention).</summary>
        V Reshape(V a, params long[] shape);

        /// <summary>Columns of a <c>[N, d]</c> value picked by an int64 index vector (a state buffer).</summary>
        V SelectColumns(V a, V indices);

        /// <summary>
        /// For <c>values [..., 1]</c> and <c>thresholds [..., m]</c>: how many thresholds each value is at or above,
        /// int64 <c>[..., 1]</c> (a bin search by comparisons and a sum; ONNX has no <c>searchsorted</c>).
        /// </summary>
        V CountAtOrAbove(V values, V thresholds);

        /// <summary>Adds an integer to an int64 index value.</summary>
        V AddIndex(V index, long k);

        /// <summary>Entries of <paramref name="table"/> along its last axis at int64 <paramref name="index"/> (same rank).</summary>
        V GatherLast(V table, V index);

        /// <summary>Whether each entry lies in <c>[min, max]</c> (boolean).</summary>
        V InRange(V a, double min, double max);

        /// <summary><paramref name="a"/> where <paramref name="condition"/> holds, else <paramref name="b"/>.</summary>
        V Where(V condition, V a, V b);

        /// <summary><paramref name="a"/> where <paramref name="condition"/> holds, else the scalar <paramref name="b"/>.</summary>
        V Where(V condition, V a, double b);

        /// <summary>Zeros of the shape and type of <paramref name="like"/>.</summary>
        V ZerosLike(V like);

        /// <summary>A <c>[N]</c> value (N the rows of <paramref name="rows"/>) every entry of which is the scalar value <paramref name="scalar"/>.</summary>
        V ExpandRows(V scalar, V rows);
    }
}
