using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// A fixed reordering of the features, <c>y[:, j] = x[:, order[j]]</c>; volume preserving (<c>log|det J| = 0</c>).
    /// Between coupling layers it lets every feature condition every other.
    /// </summary>
    public sealed class Permutation : ExportableFlowLayer
    {
        internal const string TypeName = "Permutation";

        private readonly Tensor order;
        private readonly Tensor inverseOrder;

        /// <summary>Creates the layer from an order that holds each of <c>0 .. order.Length - 1</c> exactly once.</summary>
        /// <param name="order">The source feature of each output feature.</param>
        public Permutation(int[] order) : base(nameof(Permutation), order?.Length ?? 0)
        {
            ArgumentNullException.ThrowIfNull(order);
            var inverse = new long[order.Length];
            var seen = new bool[order.Length];
            for (int j = 0; j < order.Length; j++)
            {
                int source = order[j];
                if (source < 0 || source >= order.Length || seen[source])
                    throw new ArgumentException($"The order must hold each of 0..{order.Length - 1} exactly once; position {j} holds {source}.", nameof(order));
                seen[source] = true;
                inverse[source] = j;
            }
            this.order = tensor(order.Select(v => (long)v).ToArray());
            inverseOrder = tensor(inverse);
            register_buffer(nameof(this.order), this.order);
            register_buffer(nameof(inverseOrder), inverseOrder);
        }

        /// <summary>A permutation that reverses the feature order.</summary>
        /// <param name="dimension">The number of features.</param>
        /// <returns>The layer.</returns>
        public static Permutation Reverse(int dimension) =>
            new(Enumerable.Range(0, dimension).Reverse().ToArray());

        /// <summary>A random permutation drawn from <paramref name="random"/> (Fisher-Yates).</summary>
        /// <param name="dimension">The number of features.</param>
        /// <param name="random">The source of randomness; seed it for reproducible flows.</param>
        /// <returns>The layer.</returns>
        public static Permutation Random(int dimension, Random random) => new(RandomOrder(dimension, random));

        /// <summary>A seeded random order of <c>0 .. dimension - 1</c> (Fisher-Yates), shared by the permuting layers.</summary>
        internal static int[] RandomOrder(int dimension, Random random)
        {
            ArgumentNullException.ThrowIfNull(random);
            int[] order = Enumerable.Range(0, dimension).ToArray();
            random.Shuffle(order);
            return order;
        }

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class =>
            (o.SelectColumns(input, o.State(inverse ? inverseOrder : order)), null);

        /// <inheritdoc />
        public override ComponentDescription Describe()
        {
            using var scope = NewDisposeScope();
            long[] values = order.data<long>().ToArray();
            return new ComponentDescription(TypeName, new JsonObject { ["order"] = new JsonArray(values.Select(v => (JsonNode)(int)v).ToArray()) });
        }

        internal static Permutation Create(JsonObject settings) =>
            new(settings["order"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray());
    }
}
