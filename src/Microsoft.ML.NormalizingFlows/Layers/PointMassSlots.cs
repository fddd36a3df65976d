using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// Slots that the training rows determine exactly, each a point mass: a slot constant in every row, or a slot that
    /// repeats another slot in every row. The data-to-latent direction drops them, so the rest of the flow models the
    /// other slots, and adds to a row's log-density 0 when the row holds each such slot's value (its constant, or its
    /// source slot's value, within its tolerance) and <c>-Penalty</c> for each slot where it does not; the latent-to-data
    /// direction puts the values back. The density is then with respect to the counting measure on those slots: a row
    /// that holds them has the density of its other slots; a row that deviates ranks below every row that does not, as
    /// long as its other slots' log-density is above <c>-Penalty</c> (rows within about 1400 standard deviations).
    /// </summary>
    internal sealed class PointMassSlots : ExportableFlowLayer
    {
        internal const string TypeName = "PointMassSlots";

        /// <summary>The log-density a row loses for each determined slot it deviates from.</summary>
        internal const double Penalty = 1e6;

        private readonly int[] slots;
        private readonly int[] sources;
        private readonly double[] values;
        private readonly double[] tolerances;
        private readonly int[] kept;
        private readonly TorchSharp.torch.Tensor keptIndex;
        private readonly TorchSharp.torch.Tensor order;

        /// <summary>
        /// Creates the layer over rows of <paramref name="dimension"/> values: slot <c>slots[i]</c> holds the constant
        /// <c>values[i]</c> when <c>sources[i]</c> is -1, else the value of slot <c>sources[i]</c> (a slot the layer keeps).
        /// </summary>
        public PointMassSlots(int dimension, int[] slots, int[] sources, double[] values, double[] tolerances) : base(nameof(PointMassSlots), dimension)
        {
            if (slots.Length == 0 || slots.Length >= dimension || sources.Length != slots.Length || values.Length != slots.Length || tolerances.Length != slots.Length)
                throw new ArgumentException($"Expected from 1 to {dimension - 1} determined slots with a source, a value and a tolerance each; got {slots.Length}, {sources.Length}, {values.Length} and {tolerances.Length}.", nameof(slots));
            if (slots.Distinct().Count() != slots.Length || slots.Any(s => s < 0 || s >= dimension) || !slots.SequenceEqual(slots.Order()))
                throw new ArgumentException($"The determined slots must be distinct, increasing and within 0..{dimension - 1}; got {string.Join(", ", slots)}.", nameof(slots));
            if (sources.Any(s => s != -1 && (s < 0 || s >= dimension || Array.BinarySearch(slots, s) >= 0)))
                throw new ArgumentException($"Each source must be -1 (a constant) or a slot the layer keeps; got {string.Join(", ", sources)}.", nameof(sources));
            if (values.Any(v => !double.IsFinite(v)) || tolerances.Any(t => !(t >= 0) || !double.IsFinite(t)))
                throw new ArgumentException("Each constant must be finite and each tolerance finite and at least 0.", nameof(values));
            (this.slots, this.sources, this.values, this.tolerances) = (slots, sources, values, tolerances);
            kept = Enumerable.Range(0, dimension).Where(j => Array.BinarySearch(slots, j) < 0).ToArray();
            // The inverse joins [kept slots, determined slots] and picks each data slot's position in that join.
            var position = new long[dimension];
            for (int i = 0; i < kept.Length; i++) position[kept[i]] = i;
            for (int i = 0; i < slots.Length; i++) position[slots[i]] = kept.Length + i;
            keptIndex = TorchSharp.torch.tensor(kept.Select(j => (long)j).ToArray());
            order = TorchSharp.torch.tensor(position);
            register_buffer(nameof(keptIndex), keptIndex);
            register_buffer(nameof(order), order);
        }

        /// <inheritdoc />
        internal override int OutputDimension => kept.Length;

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class
        {
            if (inverse) return (Insert(o, input, zeros: false), null);
            var penalties = new V[slots.Length];
            for (int i = 0; i < slots.Length; i++)
            {
                V column = o.Narrow(input, 1, slots[i], 1);
                V inRange = sources[i] < 0
                    ? o.InRange(column, values[i] - tolerances[i], values[i] + tolerances[i])
                    : o.InRange(o.Sub(column, o.Narrow(input, 1, sources[i], 1)), -tolerances[i], tolerances[i]);
                penalties[i] = o.Where(inRange, o.ZerosLike(column), -Penalty);
            }
            return (o.SelectColumns(input, o.State(keptIndex)), o.SumLast(penalties.Length == 1 ? penalties[0] : o.Concat(1, penalties)));
        }

        /// <summary>The log-density a data row loses at determined slot <c>slots[index]</c>: 0 or <see cref="Penalty"/>.</summary>
        internal double Deviation(int index, ReadOnlySpan<float> row)
        {
            double expected = sources[index] < 0 ? values[index] : row[sources[index]];
            return Math.Abs(row[slots[index]] - expected) <= tolerances[index] ? 0 : Penalty;
        }

        /// <summary>The index among the determined slots of data slot <paramref name="slot"/>, or -1 for a kept slot.</summary>
        internal int IndexOf(int slot) => Array.BinarySearch(slots, slot) is int i and >= 0 ? i : -1;

        /// <summary>Latent rows <c>[N, OutputDimension]</c> widened to <c>[N, Dimension]</c> with 0 at the determined slots (the latent a graph reports).</summary>
        internal V PadLatent<V>(IFlowOps<V> o, V latent) where V : class => Insert(o, latent, zeros: true);

        // Joins the kept rows with a column per determined slot (its constant or its source's column, or zeros) and puts each slot in its place.
        private V Insert<V>(IFlowOps<V> o, V rows, bool zeros) where V : class
        {
            V zero = o.ZerosLike(o.Narrow(rows, 1, 0, 1));
            var parts = new V[slots.Length + 1];
            parts[0] = rows;
            for (int i = 0; i < slots.Length; i++)
                parts[i + 1] = zeros ? zero : sources[i] < 0 ? o.Add(zero, values[i]) : o.Narrow(rows, 1, Array.IndexOf(kept, sources[i]), 1);
            return o.SelectColumns(o.Concat(1, parts), o.State(order));
        }

        /// <inheritdoc />
        public override ComponentDescription Describe() => new(TypeName, new JsonObject
        {
            ["dimension"] = Dimension,
            ["slots"] = new JsonArray(slots.Select(s => (JsonNode)s).ToArray()),
            ["sources"] = new JsonArray(sources.Select(s => (JsonNode)s).ToArray()),
            ["values"] = new JsonArray(values.Select(v => (JsonNode)v).ToArray()),
            ["tolerances"] = new JsonArray(tolerances.Select(t => (JsonNode)t).ToArray()),
        });

        internal static PointMassSlots Create(JsonObject settings) => new(
            settings["dimension"]!.GetValue<int>(),
            settings["slots"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray(),
            settings["sources"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray(),
            settings["values"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray(),
            settings["tolerances"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray());
    }
}
