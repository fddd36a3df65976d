using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>The row-to-row face of a fitted flow, used by prediction engines: one graph run per row, whatever the number of columns read.</summary>
    internal sealed class FlowRowMapper : IRowToRowMapper
    {
        private readonly FlowOutputSchema schema;
        private readonly FlowRuntime runtime;

        public FlowRowMapper(FlowOutputSchema schema, FlowRuntime runtime)
        {
            this.schema = schema;
            this.runtime = runtime;
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
                    needed.AddRange(schema.Needed.Where(c => !needed.Contains(c)));
                }
                else if (!needed.Contains(schema.Input[column.Index]))
                {
                    needed.Add(schema.Input[column.Index]);
                }
            }
            return needed;
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new FlowRow(input, schema, runtime, activeColumns);

        private sealed class FlowRow : DataViewRow
        {
            private readonly DataViewRow input;
            private readonly FlowOutputSchema schema;
            private readonly ActiveColumns active;
            private readonly ScoredBlock block;
            private readonly RowSource? source;
            private readonly float[] values, context, scoredValues, scoredContext;
            private long scoredPosition = -2;

            public FlowRow(DataViewRow input, FlowOutputSchema schema, FlowRuntime runtime, IEnumerable<DataViewSchema.Column> activeColumns)
            {
                this.input = input;
                this.schema = schema;
                active = new ActiveColumns(schema, activeColumns);
                block = new ScoredBlock(runtime, schema, capacity: 1, active);
                if (active.AnyAdded) source = new RowSource(input, schema, runtime.Tabular);
                values = new float[runtime.Dimension];
                context = new float[runtime.ContextWidth];
                scoredValues = new float[runtime.Dimension];
                scoredContext = new float[runtime.ContextWidth];
            }

            public override DataViewSchema Schema => schema.Output;

            public override long Position => input.Position;

            public override long Batch => input.Batch;

            public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

            public override bool IsColumnActive(DataViewSchema.Column column) => active.IsActive(column);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
                active.GetGetter<TValue>(input, block, column, ScoreCurrentRow);

            // Scores the input's current row once for all the columns read from it: the graph runs again only when the
            // row's values (or context, or position, which the sample column's draw depends on) differ from the row scored
            // last. A prediction engine's input row may change its values without changing its position, so the values
            // are compared (float equality; a NaN equals itself here, and scores NaN either way).
            private void ScoreCurrentRow()
            {
                source!.Read(values, context);
                if (input.Position == scoredPosition && values.AsSpan().SequenceEqual(scoredValues) && context.AsSpan().SequenceEqual(scoredContext)) return;
                block.Fill(values, context, input.Position);
                values.CopyTo(scoredValues, 0);
                context.CopyTo(scoredContext, 0);
                scoredPosition = input.Position;
            }
        }
    }
}
