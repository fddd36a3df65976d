using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A cursor over a flow's output, on one input cursor. Without an added column active, it passes the input through.
    /// Otherwise it reads a block of rows ahead, copying each row's active input columns (<see cref="BufferedColumns"/>)
    /// and its flow values, scores the block in one ONNX Runtime call and then serves the rows one by one: every
    /// upstream transform runs once per row, and a source that can be read only once works.
    /// </summary>
    internal sealed class FlowRowCursor : DataViewRowCursor
    {
        private readonly DataViewRowCursor input;
        private readonly FlowOutputSchema schema;
        private readonly ActiveColumns active;
        private readonly ScoredBlock? block;
        private readonly RowSource? featureSource;
        private readonly BufferedColumns? buffered;
        private int rowsRead;
        private long position = -1;
        private bool disposed;

        public FlowRowCursor(IDataView source, FlowOutputSchema schema, FlowRuntime runtime, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            this.schema = schema;
            active = new ActiveColumns(schema, columnsNeeded);
            if (!active.AnyAdded)
            {
                input = source.GetRowCursor(active.InputColumns);
                return;
            }
            input = source.GetRowCursor(active.InputColumns.Concat(schema.Needed).Distinct());
            block = new ScoredBlock(runtime, schema, FlowScorer.BlockSize, active);
            featureSource = new RowSource(input, schema, runtime.Tabular);
            buffered = new BufferedColumns(input, active.InputColumns, FlowScorer.BlockSize);
        }

        public override DataViewSchema Schema => schema.Output;

        public override long Position => block is null ? input.Position : position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            buffered is null ? input.GetIdGetter() : (ref DataViewRowId id) => id = buffered.Id(block!.Current);

        public override bool IsColumnActive(DataViewSchema.Column column) => active.IsActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (buffered is null || schema.IsAdded(column.Index) || !active.IsActive(column)) return active.GetGetter<TValue>(input, block, column);
            return buffered.Getter<TValue>(column.Index, column, () => block!.Current);
        }

        public override bool MoveNext()
        {
            if (block is null) return input.MoveNext();
            block.Current++;
            if (block.Current >= block.Count)
            {
                rowsRead = 0;
                block.Fill(NextRow, featureSource!);
                if (block.Count == 0) return false;
            }
            position++;
            return true;
        }

        // Moves the input on and keeps the row's pass-through values for when the cursor reaches it.
        private bool NextRow()
        {
            if (!input.MoveNext()) return false;
            buffered!.Capture(rowsRead++);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !disposed)
            {
                input.Dispose();
                disposed = true;
            }
            base.Dispose(disposing);
        }
    }
}
