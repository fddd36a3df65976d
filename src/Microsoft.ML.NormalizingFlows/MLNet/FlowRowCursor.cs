using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A cursor over a flow's output. Input columns pass through from one input cursor; the added columns are computed
    /// a block of rows at a time from a second input cursor that reads only the columns the flow needs, one block ahead.
    /// Both cursors run over the same input without shuffling, so they see the same rows in the same order; row ids
    /// are compared on every row, and a mismatch throws rather than pairing a row with another row's density.
    /// </summary>
    internal sealed class FlowRowCursor : DataViewRowCursor
    {
        private readonly DataViewRowCursor input;
        private readonly FlowOutputSchema schema;
        private readonly ActiveColumns active;
        private readonly ScoredBlock? block;
        private readonly DataViewRowCursor? features;
        private readonly RowSource? featureSource;
        private readonly ValueGetter<DataViewRowId>? featureIdGetter;
        private readonly ValueGetter<DataViewRowId>? inputIdGetter;
        private readonly DataViewRowId[] blockIds = new DataViewRowId[FlowScorer.BlockSize];
        private int blockRowsRead;
        private bool disposed;

        public FlowRowCursor(IDataView source, FlowOutputSchema schema, FlowRuntime runtime, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            this.schema = schema;
            active = new ActiveColumns(schema, columnsNeeded);
            input = source.GetRowCursor(active.InputColumns);
            if (active.AnyAdded)
            {
                block = new ScoredBlock(runtime, schema, FlowScorer.BlockSize, active);
                features = source.GetRowCursor(schema.Needed);
                featureSource = new RowSource(features, schema, runtime.Tabular);
                featureIdGetter = features.GetIdGetter();
                inputIdGetter = input.GetIdGetter();
            }
        }

        public override DataViewSchema Schema => schema.Output;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => active.IsActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            active.GetGetter<TValue>(input, block, column);

        public override bool MoveNext()
        {
            if (!input.MoveNext()) return false;
            if (block is null) return true;
            block.Current++;
            if (block.Current >= block.Count)
            {
                blockRowsRead = 0;
                block.Fill(NextFeatureRow, featureSource!);
                if (block.Count == 0)
                    throw new InvalidOperationException("The input produced fewer rows for the feature column than for the other columns; " +
                        "a normalizing flow needs an input that yields the same rows in the same order on every cursor.");
            }
            DataViewRowId id = default;
            inputIdGetter!(ref id);
            if (!id.Equals(blockIds[block.Current]))
                throw new InvalidOperationException($"Row {input.Position} of the input came in a different order on two cursors; " +
                    "a normalizing flow needs an input that yields the same rows in the same order on every cursor. " +
                    "Insert mlContext.Data.Cache(...) or AppendCacheCheckpoint before the flow.");
            return true;
        }

        private bool NextFeatureRow()
        {
            if (!features!.MoveNext()) return false;
            featureIdGetter!(ref blockIds[blockRowsRead++]);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !disposed)
            {
                input.Dispose();
                features?.Dispose();
                disposed = true;
            }
            base.Dispose(disposing);
        }
    }
}
