using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Ops
{
    /// <summary>Constants computed from the model's own numbers (tables, fitted statistics) as values of any interpreter.</summary>
    internal static class FlowOpsConstants
    {
        /// <summary><paramref name="values"/> of <paramref name="shape"/> (a vector when none is given) in element type <paramref name="type"/>.</summary>
        public static V Constant<V>(this IFlowOps<V> o, double[] values, ScalarType type, params long[] shape) where V : class =>
            o.Computed(tensor(values, shape.Length == 0 ? new long[] { values.Length } : shape).to_type(type));
    }
}
