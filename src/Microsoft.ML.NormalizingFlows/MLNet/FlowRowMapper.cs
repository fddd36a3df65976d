using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>The row-to-row face of a fitted flow, used by prediction engines: one row scored when its output is read.</summary>
    internal sealed class FlowRowMapper : IRowToRowMapper
    {
        private readonly FlowOutputSchema schema;
        private readonly FlowScorer scorer;

        public FlowRowMapper(FlowOutputSchema schema, FlowScorer scorer)
        {
            this.schema = schema;
            this.scorer = scorer;
        }

        public DataViewSchema InputSchema => schema.Input;

        public DataViewSchema OutputSchema => schema.Output;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        {
            var needed = new List<DataViewSchema.Column>();
            foreach (DataViewSchema.Column column in dependingColumns)
            {
                if (schema.IsAdded(column.Index))
                {
                    if (!needed.Contains(schema.Features)) needed.Add(schema.Features);
                }
                else if (!needed.Contains(schema.Input[column.Index]))
                {
                    needed.Add(schema.Input[column.Index]);
                }
            }
            return needed;
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new FlowRow(input, schema, scorer, activeColumns);

        private sealed class FlowRow : DataViewRow
        {
            private readonly DataViewRow input;
            private readonly FlowOutputSchema schema;
            private readonly ActiveColumns active;
            private readonly ScoredBlock block;
            private readonly ValueGetter<VBuffer<float>>? featureGetter;
            private VBuffer<float> featureBuffer;

            public FlowRow(DataViewRow input, FlowOutputSchema schema, FlowScorer scorer, IEnumerable<DataViewSchema.Column> activeColumns)
            {
                this.input = input;
                this.schema = schema;
                active = new ActiveColumns(schema, activeColumns);
                block = new ScoredBlock(scorer, schema, capacity: 1, active.Latent);
                if (active.AnyAdded)
                    featureGetter = input.GetGetter<VBuffer<float>>(schema.Features);
            }

            public override DataViewSchema Schema => schema.Output;

            public override long Position => input.Position;

            public override long Batch => input.Batch;

            public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

            public override bool IsColumnActive(DataViewSchema.Column column) => active.IsActive(column);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
                active.GetGetter<TValue>(input, block, column, ScoreCurrentRow);

            // Scores the input's current row on every read: a prediction engine's input row may change its values without
            // changing its position, so no result is reused.
            private void ScoreCurrentRow()
            {
                bool consumed = false;
                block.Fill(destination =>
                {
                    if (consumed) return false;
                    featureGetter!(ref featureBuffer);
                    FeatureColumn.CopyRow(featureBuffer, destination, schema.Features.Name, input.Position);
                    consumed = true;
                    return true;
                });
            }
        }
    }
}
