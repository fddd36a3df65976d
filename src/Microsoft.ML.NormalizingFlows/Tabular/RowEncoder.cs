namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// Reads one row of the user's columns into a flow row (data slots, integers as they are) and a context row (one-hot
    /// categories; numeric context standardized for training, as it is for the density graph, which standardizes it
    /// itself); <see cref="LogMass"/> gives the log-probability of its categories, on demand (scoring does not need it:
    /// the graph holds the table).
    /// </summary>
    internal sealed class RowEncoder
    {
        private readonly TabularCodec codec;
        private readonly DataViewRow row;
        private readonly double[]? shift;
        private readonly double[]? scale;
        private readonly Action<Span<double>>?[] numbers;
        private readonly Func<string>?[] categories;
        private readonly Dictionary<string, int>[] categoryIndex;
        private readonly double[] buffer;
        private readonly int[] combination;

        public RowEncoder(TabularCodec codec, DataViewRow row, bool raw)
        {
            this.codec = codec;
            this.row = row;
            if (!raw) (shift, scale) = codec.ContextStandardization();
            int count = codec.Columns.Count;
            numbers = new Action<Span<double>>?[count];
            categories = new Func<string>?[count];
            categoryIndex = new Dictionary<string, int>[count];
            for (int i = 0; i < count; i++)
            {
                TabularColumn column = codec.Columns[i];
                DataViewSchema.Column source = TabularSchema.Find(row.Schema, column);
                if (column.Kind == ColumnKind.Categorical)
                {
                    categories[i] = ColumnTypes.CategoryReader(row, source, column.ItemType);
                    categoryIndex[i] = column.Categories.Select((c, j) => (c, j)).ToDictionary(p => p.c, p => p.j);
                }
                else
                {
                    numbers[i] = ColumnTypes.NumberReader(row, source, column.ItemType, column.IsVector);
                }
            }
            buffer = new double[codec.Columns.Count == 0 ? 1 : codec.Columns.Max(c => c.Size)];
            combination = new int[codec.Categorical.Length];
        }

        /// <summary>The column of the last row that held NaN or an infinity, or <c>null</c>.</summary>
        public string? InvalidColumn { get; private set; }

        /// <summary>The slot of that value.</summary>
        public int InvalidSlot { get; private set; }

        /// <summary>The invalid value.</summary>
        public double InvalidValue { get; private set; }

        public long Position => row.Position;

        /// <summary>The log-probability of the last encoded row's categories.</summary>
        public double LogMass => codec.Table.LogMass(combination);

        /// <summary>
        /// Encodes the current row; returns false (naming the column in <see cref="InvalidColumn"/>) when a numeric value
        /// is NaN or infinite.
        /// </summary>
        public bool Encode(Span<float> data, Span<float> context)
        {
            int dataOffset = 0, contextOffset = 0, categorical = 0;
            context.Clear();
            InvalidColumn = null;
            for (int i = 0; i < codec.Columns.Count; i++)
            {
                TabularColumn column = codec.Columns[i];
                if (column.Kind == ColumnKind.Categorical)
                {
                    int index = categoryIndex[i].GetValueOrDefault(categories[i]!(), -1);
                    combination[categorical++] = index;
                    if (index >= 0) context[contextOffset + index] = 1;
                    contextOffset += column.ContextWidth;
                    continue;
                }
                Span<double> values = buffer.AsSpan(0, column.Size);
                numbers[i]!(values);
                for (int j = 0; j < column.Size; j++)
                {
                    double value = values[j];
                    if (!double.IsFinite(value))
                    {
                        (InvalidColumn, InvalidSlot, InvalidValue) = (column.Name, j, value);
                        return false;
                    }
                    if (column.Kind == ColumnKind.Context)
                        context[contextOffset + j] = (float)(shift is null ? value : (value - shift[contextOffset + j]) / scale![contextOffset + j]);
                    else
                        data[dataOffset + j] = (float)value;
                }
                dataOffset += column.DataWidth;
                contextOffset += column.ContextWidth;
            }
            return true;
        }
    }
}
