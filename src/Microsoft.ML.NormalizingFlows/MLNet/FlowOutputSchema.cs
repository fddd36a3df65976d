using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// The schema a fitted flow produces: the input's columns (same indices), then the log-density column and, when
    /// named, the latent, score and sample columns. A new column hides an input column of the same name.
    /// </summary>
    internal sealed class FlowOutputSchema
    {
        public FlowOutputSchema(DataViewSchema input, NormalizingFlowTransformer transformer)
        {
            if (transformer.Tabular is Tabular.TabularModel tabular)
            {
                Needed = tabular.Codec.Columns.Select(c => Tabular.TabularSchema.Find(input, c)).ToArray();
            }
            else
            {
                (DataViewSchema.Column features, int size) = FeatureColumn.Find(input, transformer.FeatureColumnName);
                if (size != transformer.Dimension)
                    throw new ArgumentOutOfRangeException(nameof(input), $"Feature column '{transformer.FeatureColumnName}' has {size} values per row " +
                        $"but the flow was trained on {transformer.Dimension}. Build the column the same way as for training.");
                Needed = new[] { features };
            }
            Input = input;
            var builder = new DataViewSchema.Builder();
            builder.AddColumns(input);
            builder.AddColumn(transformer.LogDensityColumnName, NumberDataViewType.Single);
            int next = input.Count + 1;
            LatentIndex = ScoreIndex = SampleIndex = -1;
            if (transformer.LatentColumnName is string latent)
            {
                builder.AddColumn(latent, new VectorDataViewType(NumberDataViewType.Single, transformer.Dimension));
                LatentIndex = next++;
            }
            if (transformer.ScoreColumnName is string score)
            {
                builder.AddColumn(score, NumberDataViewType.Single);
                ScoreIndex = next++;
            }
            if (transformer.SampleColumnName is string sample)
            {
                builder.AddColumn(sample, new VectorDataViewType(NumberDataViewType.Single, transformer.Dimension));
                SampleIndex = next;
            }
            Output = builder.ToSchema();
            LogDensityIndex = input.Count;
        }

        public DataViewSchema Input { get; }

        public DataViewSchema Output { get; }

        /// <summary>The input columns the flow reads: the feature column, or a tabular model's columns.</summary>
        public DataViewSchema.Column[] Needed { get; }

        public int LogDensityIndex { get; }

        /// <summary>The latent column's index, or -1 when the transformer adds none.</summary>
        public int LatentIndex { get; }

        /// <summary>The score column's index (<c>-log p</c>), or -1 when the transformer adds none.</summary>
        public int ScoreIndex { get; }

        /// <summary>The sample column's index, or -1 when the transformer adds none.</summary>
        public int SampleIndex { get; }

        public bool IsAdded(int index) => index >= Input.Count;
    }
}
