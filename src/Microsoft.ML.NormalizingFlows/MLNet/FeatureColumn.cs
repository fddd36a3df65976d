using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>Finds and checks the feature column a flow reads: a known-size vector of Single.</summary>
    internal static class FeatureColumn
    {
        public const string TypeAdvice =
            "A normalizing flow needs a known-size vector of Single (float): build one with mlContext.Transforms.Concatenate " +
            "from float columns, or convert with mlContext.Transforms.Conversion.ConvertType.";

        /// <summary>The column and its vector size; throws naming the column when it is missing or of another type.</summary>
        public static (DataViewSchema.Column Column, int Size) Find(DataViewSchema schema, string name)
        {
            DataViewSchema.Column? column = schema.GetColumnOrNull(name);
            if (column is null)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Feature column '{name}' was not found in the input. " +
                    $"Columns present: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}. " +
                    "Set FeatureColumnName, or add a Concatenate step that creates the column.");
            if (column.Value.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Feature column '{name}' has type {column.Value.Type}. {TypeAdvice}");
            return (column.Value, vector.Size);
        }

        /// <summary>The same checks on a schema shape, before fitting (the shape does not know the vector size).</summary>
        public static void Check(SchemaShape shape, string name)
        {
            SchemaShape.Column column = shape.FirstOrDefault(c => c.Name == name);
            if (column.Name != name)
                throw new ArgumentOutOfRangeException(nameof(shape), $"Feature column '{name}' was not found in the input. " +
                    $"Columns present: {string.Join(", ", shape.Select(c => $"'{c.Name}'"))}. " +
                    "Set FeatureColumnName, or add a Concatenate step that creates the column.");
            if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
                throw new ArgumentOutOfRangeException(nameof(shape), $"Feature column '{name}' has type {DescribeShape(column)}. {TypeAdvice}");
        }

        /// <summary>The slot names of a vector column (for example those Concatenate records), or <c>null</c> when it has none.</summary>
        public static string[]? SlotNames(DataViewSchema.Column column, int size)
        {
            if (column.Annotations.Schema.GetColumnOrNull("SlotNames") is null) return null;
            VBuffer<ReadOnlyMemory<char>> names = default;
            column.GetSlotNames(ref names);
            if (names.Length != size) return null;
            string[] result = names.DenseValues().Select(n => n.ToString()).ToArray();
            return result.All(n => n.Length > 0) ? result : null;
        }

        /// <summary>Reads one row's features into <paramref name="destination"/> (dense), checking the size.</summary>
        public static void CopyRow(in VBuffer<float> source, Span<float> destination, string name, long position)
        {
            if (source.Length != destination.Length)
                throw new InvalidOperationException($"Row {position} of column '{name}' has {source.Length} values but the flow expects {destination.Length}.");
            source.CopyTo(destination);
        }

        /// <summary>The slot of the first NaN or infinite value, or -1.</summary>
        public static int FirstInvalid(ReadOnlySpan<float> values)
        {
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i])) return i;
            return -1;
        }

        /// <summary>The error for a training row holding NaN or an infinity under <see cref="InvalidRowHandling.Throw"/>.</summary>
        public static InvalidOperationException InvalidValue(long row, string column, double value, int slot) =>
            new($"Row {row} of column '{column}' holds {value} at slot {slot}. " +
                "Remove or impute such rows (for example with mlContext.Transforms.ReplaceMissingValues), or set " +
                "InvalidRows = InvalidRowHandling.Skip to leave them out of training.");

        private static string DescribeShape(SchemaShape.Column column) => column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => $"scalar {column.ItemType}",
            SchemaShape.Column.VectorKind.VariableVector => $"variable-size vector of {column.ItemType}",
            _ => $"vector of {column.ItemType}",
        };
    }
}
