using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// Generated rows held in memory, in the user's columns: names, item types, vector sizes and (for keys drawn from
    /// MapValueToKey) the key's value names as they were at fitting.
    /// </summary>
    internal sealed class GeneratedDataView : IDataView
    {
        private readonly TabularColumn[] columns;
        private readonly double[]?[] numbers;
        private readonly string[]?[] texts;
        private readonly int count;

        /// <param name="columns">The columns.</param>
        /// <param name="numbers">Per column: <c>count * Size</c> values, or <c>null</c> for a text column.</param>
        /// <param name="texts">Per column: <c>count</c> values for a text column, else <c>null</c>.</param>
        /// <param name="count">The number of rows.</param>
        public GeneratedDataView(TabularColumn[] columns, double[]?[] numbers, string[]?[] texts, int count)
        {
            this.columns = columns;
            this.numbers = numbers;
            this.texts = texts;
            this.count = count;
            var builder = new DataViewSchema.Builder();
            foreach (TabularColumn column in columns) builder.AddColumn(column.Name, ColumnTypes.TypeOf(column), KeyValues(column));
            Schema = builder.ToSchema();
        }

        public bool CanShuffle => false;

        public DataViewSchema Schema { get; }

        public long? GetRowCount() => count;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new Cursor(this, columnsNeeded);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            new[] { GetRowCursor(columnsNeeded, rand) };

        private static DataViewSchema.Annotations? KeyValues(TabularColumn column)
        {
            if (column.CategoryNames.Length == 0 || column.KeyCount == 0 || column.KeyCount > 1_000_000) return null;
            var names = new ReadOnlyMemory<char>[column.KeyCount];
            for (int i = 0; i < names.Length; i++) names[i] = ReadOnlyMemory<char>.Empty;
            for (int c = 0; c < column.Categories.Length; c++)
                if (ulong.TryParse(column.Categories[c], out ulong key) && key >= 1 && key <= column.KeyCount)
                    names[key - 1] = column.CategoryNames[c].AsMemory();
            var annotations = new DataViewSchema.Annotations.Builder();
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(names.Length, names);
            annotations.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, names.Length), getter);
            return annotations.ToAnnotations();
        }

        private sealed class Cursor : DataViewRowCursor
        {
            private readonly GeneratedDataView view;
            private readonly bool[] active;
            private long position = -1;

            public Cursor(GeneratedDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded)
            {
                this.view = view;
                active = new bool[view.columns.Length];
                foreach (DataViewSchema.Column column in columnsNeeded) active[column.Index] = true;
            }

            public override DataViewSchema Schema => view.Schema;

            public override long Position => position;

            public override long Batch => 0;

            public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

            public override bool MoveNext()
            {
                if (position + 1 >= view.count) return false;
                position++;
                return true;
            }

            public override ValueGetter<DataViewRowId> GetIdGetter() =>
                (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (!active[column.Index])
                    throw new InvalidOperationException($"Column '{column.Name}' is not active; ask for it when opening the cursor.");
                Func<int> row = () => (int)position;
                Delegate getter = view.texts[column.Index] is string[] text
                    ? ColumnTypes.TextGetter(text, row)
                    : ColumnTypes.NumberGetter(view.columns[column.Index], view.numbers[column.Index]!, row);
                return ScoredBlock.Cast<TValue>(getter, column);
            }
        }
    }
}
