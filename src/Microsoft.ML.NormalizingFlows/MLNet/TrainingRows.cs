using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>The rows of a feature column, read into one row-major array with NaN/inf rows checked or skipped.</summary>
    internal sealed class TrainingRows
    {
        private TrainingRows(float[] values, int count, int dimension, long skipped)
        {
            Values = values;
            Count = count;
            Dimension = dimension;
            Skipped = skipped;
        }

        /// <summary>Row-major values, <c>Count * Dimension</c> long.</summary>
        public float[] Values { get; }

        public int Count { get; }

        public int Dimension { get; }

        /// <summary>Rows left out for holding NaN or an infinity.</summary>
        public long Skipped { get; }

        public static TrainingRows Read(IDataView data, string columnName, InvalidRowHandling invalidRows)
        {
            (DataViewSchema.Column column, int dimension) = FeatureColumn.Find(data.Schema, columnName);
            var values = new List<float>();
            float[] row = new float[dimension];
            VBuffer<float> buffer = default;
            long skipped = 0;
            int count = 0;
            using (DataViewRowCursor cursor = data.GetRowCursor(new[] { column }))
            {
                ValueGetter<VBuffer<float>> getter = cursor.GetGetter<VBuffer<float>>(column);
                while (cursor.MoveNext())
                {
                    getter(ref buffer);
                    FeatureColumn.CopyRow(buffer, row, columnName, cursor.Position);
                    int bad = Array.FindIndex(row, v => !float.IsFinite(v));
                    if (bad >= 0)
                    {
                        if (invalidRows == InvalidRowHandling.Throw)
                            throw new InvalidOperationException($"Row {cursor.Position} of column '{columnName}' holds {row[bad]} at slot {bad}. " +
                                "Remove or impute such rows (for example with mlContext.Transforms.ReplaceMissingValues), or set " +
                                "InvalidRows = InvalidRowHandling.Skip to leave them out of training.");
                        skipped++;
                        continue;
                    }
                    if (count == int.MaxValue / Math.Max(1, dimension))
                        throw new InvalidOperationException($"Column '{columnName}' has more rows than fit in memory for one fit.");
                    values.AddRange(row);
                    count++;
                }
            }
            if (count == 0)
                throw new InvalidOperationException(skipped > 0
                    ? $"Every one of the {skipped} rows of column '{columnName}' holds NaN or an infinity; there is nothing to train on."
                    : $"The training data has no rows in column '{columnName}'; a flow needs at least 2 rows to fit.");
            return new TrainingRows(values.ToArray(), count, dimension, skipped);
        }
    }
}
