using System.Text.Json.Nodes;
using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// How a flow sees a table: the user's columns in order, each either data (continuous or integer slots of the flow's
    /// rows), categorical (an exact frequency table plus a one-hot context of the flow) or numeric context; and the way
    /// back from flow rows and category draws to rows in the user's own columns and types.
    /// A flow row holds the data slots (<see cref="DataWidth"/>); a context row the one-hot categories then the
    /// standardized numeric context (<see cref="ContextWidth"/>).
    /// </summary>
    internal sealed class TabularCodec
    {
        public TabularCodec(IReadOnlyList<TabularColumn> columns, CategoryTable table, string? labelColumnName)
        {
            Columns = columns;
            Table = table;
            LabelColumnName = labelColumnName;
            DataWidth = columns.Sum(c => c.DataWidth);
            ContextWidth = columns.Sum(c => c.ContextWidth);
            Categorical = columns.Where(c => c.Kind == ColumnKind.Categorical).ToArray();
        }

        public IReadOnlyList<TabularColumn> Columns { get; }

        public CategoryTable Table { get; }

        /// <summary>The class column the flow is conditioned on, or <c>null</c>.</summary>
        public string? LabelColumnName { get; }

        public int DataWidth { get; }

        public int ContextWidth { get; }

        /// <summary>The categorical columns, in table order.</summary>
        public TabularColumn[] Categorical { get; }

        /// <summary>The label's column in the table order, or null.</summary>
        public TabularColumn? Label => LabelColumnName is null ? null : Categorical.First(c => c.Name == LabelColumnName);

        /// <summary>Whether the model needs a context (categories or numeric context columns).</summary>
        public bool IsConditional => ContextWidth > 0;

        /// <summary>Whether some columns are numeric context, which <c>Generate</c> cannot draw.</summary>
        public bool HasNumericContext => Columns.Any(c => c.Kind == ColumnKind.Context);

        /// <summary>1 at the flow row's integer slots, 0 elsewhere.</summary>
        public float[] IntegerMask() => Columns.Where(c => c.DataWidth > 0)
            .SelectMany(c => Enumerable.Repeat(c.Kind == ColumnKind.Integer ? 1f : 0f, c.Size)).ToArray();

        /// <summary>
        /// Each context slot's shift and scale: a numeric context value <c>v</c> enters the flow as <c>(v - shift) / scale</c>
        /// (its training mean and standard deviation); a category's one-hot slot as it is (shift 0, scale 1).
        /// </summary>
        public (double[] Shift, double[] Scale) ContextStandardization()
        {
            var shift = new double[ContextWidth];
            var scale = new double[ContextWidth];
            int offset = 0;
            foreach (TabularColumn column in Columns)
            {
                for (int j = 0; j < column.ContextWidth; j++)
                    (shift[offset + j], scale[offset + j]) = column.Kind == ColumnKind.Context ? (column.Low[j], column.High[j]) : (0, 1);
                offset += column.ContextWidth;
            }
            return (shift, scale);
        }

        /// <summary>Where each categorical column's one-hot block starts in a context row, in table order.</summary>
        public int[] CategoricalContextOffsets()
        {
            var offsets = new List<int>();
            int offset = 0;
            foreach (TabularColumn column in Columns)
            {
                if (column.Kind == ColumnKind.Categorical) offsets.Add(offset);
                offset += column.ContextWidth;
            }
            return offsets.ToArray();
        }

        /// <summary>The names of the flow row's slots: column names, with the slot index for vectors.</summary>
        public string[] DataSlotNames() => Columns.Where(c => c.DataWidth > 0)
            .SelectMany(c => c.IsVector ? Enumerable.Range(0, c.Size).Select(j => $"{c.Name}[{j}]") : new[] { c.Name }).ToArray();

        /// <summary>A reader of rows of <paramref name="row"/>'s schema into flow rows and context rows.</summary>
        public RowEncoder Bind(DataViewRow row, bool raw) => new(this, row, raw);

        /// <summary>The context row of one combination of categories (numeric context left at its mean, 0).</summary>
        public void WriteContext(ReadOnlySpan<int> combination, Span<float> context)
        {
            context.Clear();
            int offset = 0, position = 0;
            foreach (TabularColumn column in Columns)
            {
                if (column.Kind == ColumnKind.Categorical) context[offset + combination[position++]] = 1;
                offset += column.ContextWidth;
            }
        }

        /// <summary>Turns flow rows back into column values: integers floored and clipped to their observed range.</summary>
        public void DecodeData(Span<float> row)
        {
            int offset = 0;
            foreach (TabularColumn column in Columns.Where(c => c.DataWidth > 0))
            {
                if (column.Kind == ColumnKind.Integer)
                    for (int j = 0; j < column.Size; j++)
                        row[offset + j] = (float)Math.Clamp(Math.Floor(row[offset + j]), column.Low[j], column.High[j]);
                offset += column.Size;
            }
        }

        public JsonObject ToJson() => new()
        {
            ["columns"] = new JsonArray(Columns.Select(c => (JsonNode?)c.ToJson()).ToArray()),
            ["label"] = LabelColumnName,
            ["table"] = Table.ToJson(),
        };

        public static TabularCodec FromJson(JsonObject json)
        {
            TabularColumn[] columns = json["columns"]!.AsArray().Select(c => TabularColumn.FromJson(c!.AsObject())).ToArray();
            string? label = json["label"]?.GetValue<string>();
            if (label is not null && !columns.Any(c => c.Name == label && c.Kind == ColumnKind.Categorical))
                throw new InvalidDataException($"the label column '{label}' is not among the model's categorical columns");
            return new TabularCodec(columns, CategoryTable.FromJson(json["table"]!.AsObject()), label);
        }
    }
}
