namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>The lazily computed output of <see cref="NormalizingFlowTransformer.Transform"/>.</summary>
    internal sealed class FlowDataView : IDataView
    {
        private readonly IDataView source;
        private readonly FlowOutputSchema schema;
        private readonly FlowRuntime runtime;

        public FlowDataView(IDataView source, FlowOutputSchema schema, FlowRuntime runtime)
        {
            this.source = source;
            this.schema = schema;
            this.runtime = runtime;
        }

        /// <summary>False: the added columns are computed in blocks that follow the input's own order.</summary>
        public bool CanShuffle => false;

        public DataViewSchema Schema => schema.Output;

        public long? GetRowCount() => source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new FlowRowCursor(source, schema, runtime, columnsNeeded);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            new[] { GetRowCursor(columnsNeeded, rand) };
    }
}
