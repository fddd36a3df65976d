using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// The training rows of a flow in row-major arrays: the flow's values (a feature column's, or a tabular model's data
    /// slots) and, for a tabular model, their context rows and their categories' log-probabilities. NaN/inf rows are
    /// checked or skipped.
    /// </summary>
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

        /// <summary>Row-major context values, <c>Count * ContextWidth</c> long (empty for a plain flow).</summary>
        public float[] Context { get; private init; } = Array.Empty<float>();

        public int ContextWidth { get; private init; }

        /// <summary>Each row's categories' log-probability (empty for a plain flow).</summary>
        public double[] LogMass { get; private init; } = Array.Empty<double>();

        public int Count { get; }

        public int Dimension { get; }

        /// <summary>Rows left out for holding NaN or an infinity.</summary>
        public long Skipped { get; }

        /// <summary>Reads the rows a tabular model learned from (the same rows its analysis kept), integers as they are.</summary>
        public static TrainingRows Read(IDataView data, Tabular.TabularCodec codec, long expectedRows)
        {
            int d = codec.DataWidth, k = codec.ContextWidth;
            if (expectedRows > int.MaxValue / Math.Max(1, d + k))
                throw new InvalidOperationException($"The input has {expectedRows} rows: more than fit in memory for one fit.");
            int count = (int)expectedRows;
            var values = new float[count * d];
            var context = new float[count * k];
            var logMass = new double[count];
            int row = 0;
            using (DataViewRowCursor cursor = data.GetRowCursor(codec.Columns.Select(c => Tabular.TabularSchema.Find(data.Schema, c))))
            {
                Tabular.RowEncoder encoder = codec.Bind(cursor, raw: false);
                while (cursor.MoveNext())
                {
                    if (row == count) throw new InvalidOperationException("The input yielded more rows on its second pass than on its first; insert mlContext.Data.Cache(...) before the flow.");
                    if (!encoder.Encode(values.AsSpan(row * d, d), context.AsSpan(row * k, k))) continue;
                    logMass[row++] = encoder.LogMass;
                }
            }
            if (row != count) throw new InvalidOperationException("The input yielded fewer rows on its second pass than on its first; insert mlContext.Data.Cache(...) before the flow.");
            return new TrainingRows(values, count, d, 0) { Context = context, ContextWidth = k, LogMass = logMass };
        }

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
                    int bad = FeatureColumn.FirstInvalid(row);
                    if (bad >= 0)
                    {
                        if (invalidRows == InvalidRowHandling.Throw) throw FeatureColumn.InvalidValue(cursor.Position, columnName, row[bad], bad);
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
