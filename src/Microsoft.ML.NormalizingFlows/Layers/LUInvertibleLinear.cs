using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// An invertible linear layer in LU form (Kingma and Dhariwal, 2018): <c>y = W x</c> with <c>W = P L U</c>, P a
    /// fixed permutation, L unit lower-triangular, U upper-triangular with diagonal <c>exp(s)</c>; so
    /// <c>log|det J| = sum(s)</c> costs O(d) and W stays invertible. Starts as the permutation P.
    /// </summary>
    public sealed class LUInvertibleLinear : ExportableFlowLayer
    {
        internal const string TypeName = nameof(LUInvertibleLinear);

        private readonly Parameter lower;
        private readonly Parameter upper;
        private readonly Parameter logDiagonal;
        private readonly Tensor order;

        /// <summary>Creates the layer.</summary>
        /// <param name="order">The permutation P as a source index per output feature (each of <c>0 .. d-1</c> once).</param>
        public LUInvertibleLinear(int[] order) : base(TypeName, order?.Length ?? 0)
        {
            ArgumentNullException.ThrowIfNull(order);
            if (!order.OrderBy(v => v).SequenceEqual(Enumerable.Range(0, order.Length)))
                throw new ArgumentException($"The order must hold each of 0..{order.Length - 1} exactly once.", nameof(order));
            lower = new Parameter(zeros(Dimension, Dimension));
            upper = new Parameter(zeros(Dimension, Dimension));
            logDiagonal = new Parameter(zeros(Dimension));
            this.order = tensor(order.Select(v => (long)v).ToArray());
            register_buffer(nameof(this.order), this.order);
            RegisterComponents();
        }

        /// <summary>The layer with a seeded random permutation.</summary>
        /// <param name="dimension">d.</param>
        /// <param name="random">The source of randomness.</param>
        /// <returns>The layer.</returns>
        public static LUInvertibleLinear WithRandomPermutation(int dimension, Random random) => new(Permutation.RandomOrder(dimension, random));

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class
        {
            V logDet = o.ExpandRows(o.SumLast(o.State(logDiagonal)), input);
            return (o.MatMul(input, o.Computed(inverse ? InverseWeight() : Weight())), inverse ? o.Neg(logDet) : logDet);
        }

        /// <inheritdoc />
        public override ComponentDescription Describe()
        {
            using var scope = NewDisposeScope();
            return new ComponentDescription(TypeName, new JsonObject
            {
                ["order"] = new JsonArray(order.data<long>().ToArray().Select(v => (JsonNode)(int)v).ToArray()),
            });
        }

        internal static LUInvertibleLinear Create(JsonObject settings) =>
            new(settings["order"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray());

        // W^T, where W = P L U is formed in float64 and rounded once to the element type (row i of P L U is row order[i]
        // of L U); the inverse is the float64 inverse of that rounded matrix, so the two directions invert each other
        // to the last rounding, also in an exported graph.
        private Tensor Weight()
        {
            Tensor l = lower.to_type(ScalarType.Float64).tril(-1) + eye(Dimension, dtype: ScalarType.Float64, device: lower.device);
            Tensor u = upper.to_type(ScalarType.Float64).triu(1) + diag(logDiagonal.to_type(ScalarType.Float64).exp());
            return l.matmul(u).index_select(0, order).to_type(lower.dtype).t();
        }

        private Tensor InverseWeight() => linalg.inv(Weight().to_type(ScalarType.Float64)).to_type(lower.dtype);
    }
}
