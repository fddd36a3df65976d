using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>Which of the user's columns a flow reads, and in which role.</summary>
    internal sealed record TabularSpec(
        IReadOnlyList<string> DataColumns, string? LabelColumn, IReadOnlyList<string> ContextColumns, bool WholeNumbersAsIntegers, InvalidRowHandling InvalidRows)
    {
        public IEnumerable<string> AllColumns => DataColumns.Concat(LabelColumn is null ? Array.Empty<string>() : new[] { LabelColumn }).Concat(ContextColumns);
    }

    /// <summary>Finds and checks the user's columns, and learns a <see cref="TabularCodec"/> from the data in one pass.</summary>
    internal static class TabularSchema
    {
        private const string TypeAdvice = "A flow reads numeric columns (Single, Double and integer types, scalars or known-size vectors) as data, " +
            "and scalar key, text or boolean columns as categories.";

        /// <summary>The column the codec's <paramref name="column"/> was learned from; throws naming it when it is missing or of another type.</summary>
        public static DataViewSchema.Column Find(DataViewSchema schema, TabularColumn column)
        {
            DataViewSchema.Column source = FindByName(schema, column.Name);
            int size = source.Type is VectorDataViewType vector ? vector.Size : 1;
            if (ColumnTypes.NameOf(source.Type) != column.ItemType || size != column.Size || source.Type is VectorDataViewType != column.IsVector)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{column.Name}' has type {source.Type} but the flow was trained on " +
                    $"{ColumnTypes.TypeOf(column)}. Build the column the same way as for training.");
            return source;
        }

        /// <summary>The same checks on a schema shape before fitting: every column present and of a readable type for its role.</summary>
        public static void Check(SchemaShape shape, TabularSpec spec)
        {
            foreach (string name in spec.AllColumns)
            {
                SchemaShape.Column column = shape.FirstOrDefault(c => c.Name == name);
                if (column.Name != name)
                    throw new ArgumentOutOfRangeException(nameof(shape), $"Column '{name}' was not found in the input. " +
                        $"Columns present: {string.Join(", ", shape.Select(c => $"'{c.Name}'"))}.");
                if (column.Kind == SchemaShape.Column.VectorKind.VariableVector)
                    throw new ArgumentOutOfRangeException(nameof(shape), $"Column '{name}' is a variable-size vector; a flow needs scalars or known-size vectors. {TypeAdvice}");
                CheckRole(name, ColumnTypes.NameOf(column.ItemType), column.Kind == SchemaShape.Column.VectorKind.Vector, spec, column.ItemType.ToString() ?? "?");
            }
        }

        /// <summary>
        /// The most distinct values a categorical column may have. Measured (5,000 rows, a category uniform over k values
        /// and a Gaussian value): at k = 300 the mean log-density is within 0.07 nats of the true one; at k = 1,000 it is
        /// 4.3 nats off, single rows thousands of nats off, because each category's conditional parameters rest on about
        /// five rows.
        /// </summary>
        public const int MaximumCategories = 256;

        /// <summary>Reads the data once: column kinds, integer ranges, categories and their joint counts, context statistics.</summary>
        public static (TabularCodec Codec, long Rows, long Skipped) Analyze(IDataView data, TabularSpec spec)
        {
            var drafts = spec.AllColumns.Select(name => new ColumnDraft(FindByName(data.Schema, name), spec)).ToArray();
            int categorical = drafts.Count(d => d.IsCategorical);
            var counts = new Dictionary<string, long>();
            var combination = new int[categorical];
            long rows = 0, skipped = 0;
            using (DataViewRowCursor cursor = data.GetRowCursor(drafts.Select(d => d.Source)))
            {
                foreach (ColumnDraft draft in drafts) draft.Bind(cursor);
                while (cursor.MoveNext())
                {
                    ColumnDraft? invalid = drafts.FirstOrDefault(d => !d.ReadRow());
                    if (invalid is not null)
                    {
                        if (spec.InvalidRows == InvalidRowHandling.Throw)
                            throw FeatureColumn.InvalidValue(cursor.Position, invalid.Source.Name, invalid.InvalidValue, invalid.InvalidSlot);
                        skipped++;
                        continue;
                    }
                    int position = 0;
                    foreach (ColumnDraft draft in drafts)
                    {
                        draft.Accept();
                        if (draft.IsCategorical) combination[position++] = draft.CategoryIndex;
                    }
                    string key = CategoryTable.Key(combination);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                    rows++;
                }
            }
            string columnList = string.Join(", ", spec.AllColumns.Select(n => $"'{n}'"));
            if (rows == 0)
                throw new InvalidOperationException(skipped > 0
                    ? $"Every one of the {skipped} rows of columns {columnList} holds NaN or an infinity; there is nothing to train on."
                    : $"The training data has no rows in columns {columnList}; a flow needs at least 2 rows to fit.");
            TabularColumn[] columns = drafts.Select(d => d.Finish(rows)).ToArray();
            if (columns.Sum(c => c.DataWidth) == 0)
                throw new ArgumentOutOfRangeException(nameof(data), $"Columns {columnList} hold no numeric data column for the flow to model. " +
                    "Add at least one numeric column to the input columns.");
            int labelPosition = spec.LabelColumn is null ? -1 : Array.FindIndex(columns.Where(c => c.Kind == ColumnKind.Categorical).ToArray(), c => c.Name == spec.LabelColumn);
            var table = new CategoryTable(columns.Where(c => c.Kind == ColumnKind.Categorical).Select(c => c.Categories.Length).ToArray(), labelPosition, counts);
            return (new TabularCodec(columns, table, spec.LabelColumn), rows, skipped);
        }

        private static DataViewSchema.Column FindByName(DataViewSchema schema, string name) =>
            schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{name}' was not found in the input. " +
                $"Columns present: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}. " +
                "Set the option that names it, or add a step that creates the column.");

        private static void CheckRole(string name, string? itemType, bool vector, TabularSpec spec, string typeText)
        {
            bool isContext = spec.ContextColumns.Contains(name);
            bool isLabel = name == spec.LabelColumn;
            if (itemType is null)
                throw new ArgumentOutOfRangeException(nameof(spec), $"Column '{name}' has type {typeText}, which a flow cannot read. {TypeAdvice}");
            if (isContext && !ColumnTypes.IsNumber(itemType))
                throw new ArgumentOutOfRangeException(nameof(spec), $"Context column '{name}' has type {typeText}; context columns must be numeric. " +
                    "Give a categorical condition as LabelColumnName, or convert it with mlContext.Transforms.Categorical.OneHotEncoding.");
            if ((isLabel || !ColumnTypes.IsNumber(itemType)) && vector)
                throw new ArgumentOutOfRangeException(nameof(spec), $"Column '{name}' is a vector of {itemType}; {(isLabel ? "the label" : "a categorical column")} must be a scalar. " +
                    "Split it into scalar columns, or convert it to numbers with mlContext.Transforms.Conversion.ConvertType.");
        }

        /// <summary>One column being learned during the pass.</summary>
        private sealed class ColumnDraft
        {
            private readonly TabularSpec spec;
            private readonly string itemType;
            private readonly bool vector;
            private readonly int size;
            private readonly bool isContext;
            private readonly double[] values;
            private readonly double[] low, high, sum, sumSquares;
            private readonly List<string> categories = new();
            private readonly Dictionary<string, int> index = new();
            private Action<Span<double>>? readNumbers;
            private Func<string>? readCategory;
            private string category = "";
            private bool allWhole = true;

            public ColumnDraft(DataViewSchema.Column source, TabularSpec spec)
            {
                Source = source;
                this.spec = spec;
                vector = source.Type is VectorDataViewType;
                if (source.Type is VectorDataViewType { IsKnownSize: false })
                    throw new ArgumentOutOfRangeException(nameof(source), $"Column '{source.Name}' is a variable-size vector; a flow needs scalars or known-size vectors. {TypeAdvice}");
                itemType = ColumnTypes.NameOf(source.Type) ?? "";
                CheckRole(source.Name, ColumnTypes.NameOf(source.Type), vector, spec, source.Type.ToString() ?? "?");
                size = source.Type is VectorDataViewType v ? v.Size : 1;
                isContext = spec.ContextColumns.Contains(source.Name);
                IsCategorical = source.Name == spec.LabelColumn || !ColumnTypes.IsNumber(itemType);
                values = new double[size];
                low = Enumerable.Repeat(double.PositiveInfinity, size).ToArray();
                high = Enumerable.Repeat(double.NegativeInfinity, size).ToArray();
                sum = new double[size];
                sumSquares = new double[size];
            }

            public DataViewSchema.Column Source { get; }

            public bool IsCategorical { get; }

            public int CategoryIndex { get; private set; }

            public int InvalidSlot { get; private set; }

            public double InvalidValue { get; private set; }

            public void Bind(DataViewRow row)
            {
                if (IsCategorical) readCategory = ColumnTypes.CategoryReader(row, Source, itemType);
                else readNumbers = ColumnTypes.NumberReader(row, Source, itemType, vector);
            }

            /// <summary>Reads the current row; false when a number is NaN or infinite.</summary>
            public bool ReadRow()
            {
                if (IsCategorical)
                {
                    category = readCategory!();
                    return true;
                }
                readNumbers!(values);
                for (int j = 0; j < size; j++)
                    if (!double.IsFinite(values[j]))
                    {
                        (InvalidSlot, InvalidValue) = (j, values[j]);
                        return false;
                    }
                return true;
            }

            /// <summary>Adds the row read last to the column's statistics.</summary>
            public void Accept()
            {
                if (IsCategorical)
                {
                    if (!index.TryGetValue(category, out int i))
                    {
                        if (categories.Count == MaximumCategories)
                            throw new InvalidOperationException($"Column '{Source.Name}' has more than {MaximumCategories} distinct values, the most a categorical " +
                                "column may have: each category gets its own conditional parameters, and with many categories (and so few rows each) they " +
                                "overfit and the log-densities come out wrong. Hash it into at most 256 buckets (mlContext.Transforms.Conversion.Hash with " +
                                "numberOfBits: 8), group its rare values into one, or give it as a numeric column (for example a frequency encoding).");
                        i = categories.Count;
                        index[category] = i;
                        categories.Add(category);
                    }
                    CategoryIndex = i;
                    return;
                }
                for (int j = 0; j < size; j++)
                {
                    double value = values[j];
                    low[j] = Math.Min(low[j], value);
                    high[j] = Math.Max(high[j], value);
                    sum[j] += value;
                    sumSquares[j] += value * value;
                    allWhole &= value == Math.Floor(value);
                }
            }

            public TabularColumn Finish(long rows)
            {
                ulong keyCount = Source.Type is KeyDataViewType key ? key.Count : 0;
                if (IsCategorical)
                    return new TabularColumn
                    {
                        Name = Source.Name, Kind = ColumnKind.Categorical, ItemType = itemType, Size = 1, IsVector = false, KeyCount = keyCount,
                        Categories = categories.ToArray(), CategoryNames = KeyValueNames(keyCount),
                    };
                if (isContext)
                {
                    double[] mean = sum.Select(s => s / rows).ToArray();
                    double[] deviation = sumSquares.Select((s, j) => Math.Sqrt(Math.Max(s / rows - mean[j] * mean[j], 0))).Select(s => s > 1e-12 ? s : 1).ToArray();
                    return new TabularColumn { Name = Source.Name, Kind = ColumnKind.Context, ItemType = itemType, Size = size, IsVector = vector, Low = mean, High = deviation };
                }
                bool integer = ColumnTypes.IsWholeNumber(itemType) || spec.WholeNumbersAsIntegers && allWhole;
                return new TabularColumn
                {
                    Name = Source.Name, Kind = integer ? ColumnKind.Integer : ColumnKind.Continuous, ItemType = itemType, Size = size, IsVector = vector,
                    Low = integer ? low : Array.Empty<double>(), High = integer ? high : Array.Empty<double>(),
                };
            }

            // The key's value names (as MapValueToKey records them) for each observed category, so a class can be named by its value.
            private string[] KeyValueNames(ulong keyCount)
            {
                if (keyCount == 0 || Source.Annotations.Schema.GetColumnOrNull("KeyValues") is not DataViewSchema.Column annotation
                    || annotation.Type is not VectorDataViewType { ItemType: TextDataViewType })
                    return Array.Empty<string>();
                VBuffer<ReadOnlyMemory<char>> names = default;
                Source.GetKeyValues(ref names);
                string[] all = names.DenseValues().Select(n => n.ToString()).ToArray();
                return categories.Select(c => ulong.TryParse(c, out ulong k) && k >= 1 && k <= (ulong)all.Length ? all[k - 1] : "").ToArray();
            }
        }
    }
}
