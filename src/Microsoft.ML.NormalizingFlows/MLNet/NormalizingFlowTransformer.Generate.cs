using Microsoft.ML.NormalizingFlows.Tabular;

namespace Microsoft.ML.NormalizingFlows
{
    public sealed partial class NormalizingFlowTransformer
    {
        private const int GenerationBlock = 4096;

        /// <summary>
        /// Generates synthetic rows in the columns the flow was fitted on: their names, item types and vector sizes.
        /// Integer columns hold whole numbers within the range seen at fitting; categorical and label columns hold
        /// categories seen at fitting, in their fitted frequencies (given the class, when <paramref name="label"/> is set).
        /// A plain flow generates its feature column.
        /// </summary>
        /// <param name="count">How many rows. Range: 1 to 100 000 000.</param>
        /// <param name="seed">Seeds the draws: a seed gives identical rows.</param>
        /// <param name="temperature">The scale of the base noise: 1 samples the model; below 1 draws more typical rows. Range: greater than 0, at most 10.</param>
        /// <param name="label">
        /// For a class-conditional flow, the class to generate (as text: a category's value, or a key's value name), or
        /// <c>null</c> (the default) to generate classes in their fitted proportions.
        /// </param>
        /// <returns>The generated rows, in memory.</returns>
        /// <exception cref="ArgumentOutOfRangeException">A count or temperature outside its range.</exception>
        /// <exception cref="ArgumentException">A label for a flow without a label column, or a class it never saw.</exception>
        /// <exception cref="NotSupportedException">The flow is conditioned on numeric context columns, which it does not model.</exception>
        public IDataView Generate(int count, int seed = 0, double temperature = 1, string? label = null)
        {
            if (count < 1 || count > 100_000_000)
                throw new ArgumentOutOfRangeException(nameof(count), count, "Generate from 1 to 100 000 000 rows.");
            if (!(temperature > 0 && temperature <= 10))
                throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be greater than 0 and at most 10.");
            TabularCodec? codec = Tabular?.Codec;
            if (codec is not null && codec.HasNumericContext)
                throw new NotSupportedException($"This flow is conditioned on numeric context columns ({string.Join(", ", codec.Columns.Where(c => c.Kind == ColumnKind.Context).Select(c => $"'{c.Name}'"))}), " +
                    "which it does not model, so it cannot invent them. Add a sample column (SampleColumnName) and transform rows that hold the context: each gets a draw given its context.");
            int? labelIndex = LabelIndex(codec, label);

            var random = new Random(seed);
            int d = Dimension, k = runtime.ContextWidth;
            int[][] combinations = new int[count][];
            var rows = new float[(long)count * d];
            var context = new float[Math.Min(count, GenerationBlock) * k];
            var noise = new double[Math.Min(count, GenerationBlock) * d];
            var uniforms = new double[runtime.ReadsUniforms ? Math.Min(count, GenerationBlock) : 0];
            for (int start = 0; start < count; start += GenerationBlock)
            {
                int block = Math.Min(GenerationBlock, count - start);
                for (int i = 0; i < block; i++)
                {
                    combinations[start + i] = codec?.Table.Draw(random, labelIndex) ?? Array.Empty<int>();
                    codec?.WriteContext(combinations[start + i], context.AsSpan(i * k, k));
                }
                FlowSampler.Gaussian(random, noise.AsSpan(0, block * d));
                for (int i = 0; i < block && uniforms.Length > 0; i++) uniforms[i] = random.NextDouble();
                runtime.Sample(noise, uniforms, context, block, temperature, rows.AsSpan(start * d, block * d));
            }
            return codec is null ? PlainRows(rows, count) : TabularRows(codec, rows, combinations, count);
        }

        private static int? LabelIndex(TabularCodec? codec, string? label)
        {
            if (label is null) return null;
            TabularColumn labelColumn = codec?.Label ?? throw new ArgumentException(
                "This flow has no label column, so it cannot generate a given class; fit it with LabelColumnName set, or leave label null.", nameof(label));
            int index = labelColumn.IndexOf(label);
            if (index < 0)
                throw new ArgumentException($"Label column '{labelColumn.Name}' had no class '{label}' at fitting. Classes: " +
                    string.Join(", ", labelColumn.Categories.Select((c, i) => labelColumn.CategoryNames.Length > 0 ? $"'{labelColumn.CategoryNames[i]}' (key {c})" : $"'{c}'")) + ".", nameof(label));
            return index;
        }

        private IDataView PlainRows(float[] rows, int count)
        {
            var column = new TabularColumn { Name = FeatureColumnName, Kind = ColumnKind.Continuous, ItemType = "Single", Size = Dimension, IsVector = true };
            return new GeneratedDataView(new[] { column }, new[] { Array.ConvertAll(rows, v => (double)v) }, new string[]?[1], count);
        }

        private static IDataView TabularRows(TabularCodec codec, float[] rows, int[][] combinations, int count)
        {
            TabularColumn[] columns = codec.Columns.ToArray();
            var numbers = new double[]?[columns.Length];
            var texts = new string[]?[columns.Length];
            int d = codec.DataWidth, offset = 0, categorical = 0;
            for (int c = 0; c < columns.Length; c++)
            {
                TabularColumn column = columns[c];
                if (column.Kind == ColumnKind.Categorical)
                {
                    int position = categorical++;
                    string[] drawn = combinations.Select(combination => column.Categories[combination[position]]).ToArray();
                    if (column.ItemType == "Text") texts[c] = drawn;
                    else numbers[c] = drawn.Select(ColumnTypes.CategoryNumber).ToArray();
                    continue;
                }
                var values = new double[(long)count * column.Size];
                for (int i = 0; i < count; i++)
                    for (int j = 0; j < column.Size; j++)
                        values[(long)i * column.Size + j] = rows[(long)i * d + offset + j];
                numbers[c] = values;
                offset += column.Size;
            }
            return new GeneratedDataView(columns, numbers, texts, count);
        }
    }
}
