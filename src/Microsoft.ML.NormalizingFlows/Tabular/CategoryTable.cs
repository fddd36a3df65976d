using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Ops;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// The joint distribution of a table's categorical columns: the observed combinations' counts, smoothed by one
    /// pseudo-row spread evenly over every combination, so that <c>P(a) = (n(a) + 1/S) / (N + 1)</c> (S combinations) is
    /// exact on the training rows' frequencies up to that pseudo-row and never zero. With a label column the table is
    /// conditional: <c>P(a | y) = (n(y, a) + 1/S) / (n(y) + 1)</c>, the label itself having its observed frequencies.
    /// </summary>
    internal sealed class CategoryTable
    {
        private readonly int[] sizes;
        private readonly int labelPosition;
        private readonly Dictionary<string, long> counts;
        private readonly long[] labelCounts;
        private readonly double logCombinations;
        private readonly (int[] Combination, long Count)[][] byLabel;

        public CategoryTable(int[] sizes, int labelPosition, Dictionary<string, long> counts)
        {
            this.sizes = sizes;
            this.labelPosition = labelPosition;
            this.counts = counts;
            labelCounts = new long[labelPosition >= 0 ? sizes[labelPosition] : 1];
            var groups = Enumerable.Range(0, labelCounts.Length).Select(_ => new List<(int[], long)>()).ToArray();
            foreach ((string key, long count) in counts)
            {
                int[] combination = Parse(key);
                int label = LabelOf(combination);
                labelCounts[label] += count;
                groups[label].Add((combination, count));
            }
            byLabel = groups.Select(g => g.ToArray()).ToArray();
            logCombinations = sizes.Where((_, i) => i != labelPosition).Sum(s => Math.Log(s));
        }

        /// <summary><c>log P(a | y)</c> (or <c>log P(a)</c> without a label) of a row's category indices; -infinity for an unknown category (index -1).</summary>
        public double LogMass(ReadOnlySpan<int> combination)
        {
            if (sizes.Length == 0) return 0;
            foreach (int index in combination)
                if (index < 0) return double.NegativeInfinity;
            long labelCount = labelCounts[LabelOf(combination)];
            double count = counts.GetValueOrDefault(Key(combination)) + Math.Exp(-logCombinations);
            return Math.Log(count) - Math.Log(labelCount + 1);
        }

        /// <summary>
        /// <see cref="LogMass(ReadOnlySpan{int})"/> of context rows <c>[N, k]</c> whose categories are one-hot blocks starting at
        /// <paramref name="offsets"/> (other slots are ignored), written over graph operations: one matrix product counts
        /// each row's matching categories against every observed combination's one-hot pattern; a row whose every
        /// category matches takes that combination's count. A row with a block of zeros (an unknown category) gets -infinity.
        /// Counts are exact up to 2^24 in float32. <c>null</c> without categorical columns.
        /// </summary>
        public V? LogMass<V>(IFlowOps<V> o, V context, int[] offsets, int contextWidth, ScalarType type) where V : class
        {
            if (sizes.Length == 0) return null;
            int m = counts.Count, categories = sizes.Length;
            var patterns = new double[contextWidth * m];
            var observed = new double[m];
            int column = 0;
            foreach ((string key, long n) in counts)
            {
                int[] combination = Parse(key);
                for (int p = 0; p < categories; p++) patterns[(offsets[p] + combination[p]) * m + column] = 1;
                observed[column++] = n;
            }
            var categorical = new double[contextWidth];
            foreach ((int offset, int size) in offsets.Zip(sizes)) Array.Fill(categorical, 1, offset, size);

            V matched = o.InRange(o.MatMul(context, o.Constant(patterns, type, contextWidth, m)), categories - 0.5, categories + 0.5);
            V count = o.SumLast(o.Where(matched, o.Constant(observed, type), 0));
            V logCount = o.Where(o.InRange(count, 0.5, double.PositiveInfinity), o.Log(o.Add(count, Math.Exp(-logCombinations))), -logCombinations);
            V logMass;
            if (labelPosition < 0)
            {
                logMass = o.Add(logCount, -Math.Log(labelCounts[0] + 1));
            }
            else
            {
                var labelWeights = new double[contextWidth];
                for (int j = 0; j < labelCounts.Length; j++) labelWeights[offsets[labelPosition] + j] = labelCounts[j];
                logMass = o.Sub(logCount, o.Log(o.Add(o.SumLast(o.Mul(context, o.Constant(labelWeights, type))), 1)));
            }
            V known = o.InRange(o.SumLast(o.Mul(context, o.Constant(categorical, type))), categories - 0.5, categories + 0.5);
            return o.Where(known, logMass, double.NegativeInfinity);
        }

        /// <summary>Draws a combination: for <paramref name="label"/> when given, else with the label in its observed proportions.</summary>
        public int[] Draw(Random random, int? label)
        {
            if (sizes.Length == 0) return Array.Empty<int>();
            int y = label ?? Pick(random, labelCounts.Select(c => (double)c).ToArray());
            (int[] Combination, long Count)[] observed = byLabel[y];
            long total = labelCounts[y];
            if (random.NextDouble() * (total + 1) < total)
            {
                double target = random.NextDouble() * total;
                foreach ((int[] combination, long count) in observed)
                {
                    target -= count;
                    if (target < 0) return (int[])combination.Clone();
                }
                return (int[])observed[^1].Combination.Clone();
            }
            int[] uniform = sizes.Select(s => random.Next(s)).ToArray();
            if (labelPosition >= 0) uniform[labelPosition] = y;
            return uniform;
        }

        public JsonObject ToJson() => new()
        {
            ["sizes"] = new JsonArray(sizes.Select(s => (JsonNode?)s).ToArray()),
            ["labelPosition"] = labelPosition,
            ["counts"] = new JsonObject(counts.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        };

        public static CategoryTable FromJson(JsonObject json)
        {
            int[] sizes = json["sizes"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
            int labelPosition = json["labelPosition"]!.GetValue<int>();
            var counts = json["counts"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<long>());
            foreach (string key in counts.Keys)
            {
                int[] combination = Parse(key);
                if (combination.Length != sizes.Length || combination.Where((c, i) => c < 0 || c >= sizes[i]).Any())
                    throw new InvalidDataException($"the category table holds a combination '{key}' outside its columns' categories");
            }
            return new CategoryTable(sizes, labelPosition, counts);
        }

        private int LabelOf(ReadOnlySpan<int> combination) => labelPosition >= 0 ? combination[labelPosition] : 0;

        private static int Pick(Random random, double[] weights)
        {
            double target = random.NextDouble() * weights.Sum();
            for (int i = 0; i < weights.Length; i++)
            {
                target -= weights[i];
                if (target < 0) return i;
            }
            return weights.Length - 1;
        }

        /// <summary>The table's key of a combination of category indices.</summary>
        public static string Key(ReadOnlySpan<int> combination)
        {
            var parts = new string[combination.Length];
            for (int i = 0; i < parts.Length; i++) parts[i] = combination[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            return string.Join(',', parts);
        }

        private static int[] Parse(string key) =>
            key.Length == 0 ? Array.Empty<int>() : key.Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }
}
