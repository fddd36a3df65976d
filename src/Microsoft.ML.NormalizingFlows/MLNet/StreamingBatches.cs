using Microsoft.ML.NormalizingFlows.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>Reads one row's flow values (and context) into a span; false leaves the row out (NaN or inf with Skip).</summary>
    internal delegate bool ReadTrainingRow(Span<float> destination);

    /// <summary>
    /// Training rows streamed from an IDataView each epoch: a cursor reads them in order, a bounded shuffle buffer of
    /// <c>bufferRows</c> rows mixes them (each incoming row replaces a random buffered row, which joins the batch), and
    /// batches are copied out of one reused array into one reused tensor per pass (each batch a view of it, valid until
    /// the next is read). Memory holds the buffer and one batch, whatever the number of rows: a new native tensor per
    /// batch let glibc's heap grow with the number of batches.
    /// Validation rows are those a seeded hash of the row position puts there, so every pass agrees on them.
    /// </summary>
    internal sealed class StreamingBatches : ITrainingBatches
    {
        private readonly IDataView data;
        private readonly DataViewSchema.Column[] columns;
        private readonly Func<DataViewRow, bool, ReadTrainingRow> bind;
        private readonly int width;
        private readonly int bufferRows;
        private readonly int seed;
        private readonly double validationFraction;
        private readonly ScalarType type;

        public StreamingBatches(IDataView data, DataViewSchema.Column[] columns, Func<DataViewRow, bool, ReadTrainingRow> bind, int width,
            int bufferRows, int seed, double validationFraction, ScalarType type)
        {
            this.data = data;
            this.columns = columns;
            this.bind = bind;
            this.width = width;
            this.bufferRows = bufferRows;
            this.seed = seed;
            this.validationFraction = validationFraction;
            this.type = type;
        }

        /// <summary>Training rows per epoch, known after <see cref="Count"/>.</summary>
        public long TrainingRows { get; private set; }

        /// <summary>Validation rows, known after <see cref="Count"/>.</summary>
        public long ValidationRows { get; private set; }

        public bool HasValidation => ValidationRows > 0;

        /// <summary>Reads the rows once before fitting: hands each training row to <paramref name="inspect"/> and counts both kinds.</summary>
        public void Count(Action<float[]> inspect)
        {
            long training = 0;
            foreach (float[] row in Rows(validation: false))
            {
                training++;
                inspect(row);
            }
            TrainingRows = training;
            ValidationRows = validationFraction > 0 ? Rows(validation: true).LongCount() : 0;
        }

        /// <summary>Whether the row at <paramref name="position"/> is a validation row (the same answer on every pass).</summary>
        public static bool IsValidation(int seed, long position, double fraction) => fraction > 0 && RowHash.Uniform(seed, position) < fraction;

        public IEnumerable<Tensor> Epoch(int epoch, int batchSize, Generator generator)
        {
            var random = new Random(unchecked(seed * 7919 + epoch));
            var buffer = new float[(long)bufferRows * width];
            var batch = new float[(long)batchSize * width];
            using var tensors = new BatchTensor(batchSize, width, type);
            int filled = 0, inBatch = 0;
            foreach (float[] row in Rows(validation: false))
            {
                if (filled < bufferRows)
                {
                    row.CopyTo(buffer, (long)filled++ * width);
                    continue;
                }
                int slot = random.Next(bufferRows);
                Array.Copy(buffer, (long)slot * width, batch, (long)inBatch++ * width, width);
                row.CopyTo(buffer, (long)slot * width);
                if (inBatch == batchSize)
                {
                    yield return tensors.Fill(batch, inBatch);
                    inBatch = 0;
                }
            }
            int[] rest = Enumerable.Range(0, filled).ToArray();
            random.Shuffle(rest);
            foreach (int slot in rest)
            {
                Array.Copy(buffer, (long)slot * width, batch, (long)inBatch++ * width, width);
                if (inBatch == batchSize)
                {
                    yield return tensors.Fill(batch, inBatch);
                    inBatch = 0;
                }
            }
            if (inBatch > 0) yield return tensors.Fill(batch, inBatch);
        }

        public IEnumerable<Tensor> Validation(int batchSize)
        {
            var batch = new float[(long)batchSize * width];
            using var tensors = new BatchTensor(batchSize, width, type);
            int inBatch = 0;
            foreach (float[] row in Rows(validation: true))
            {
                row.CopyTo(batch, (long)inBatch++ * width);
                if (inBatch == batchSize)
                {
                    yield return tensors.Fill(batch, inBatch);
                    inBatch = 0;
                }
            }
            if (inBatch > 0) yield return tensors.Fill(batch, inBatch);
        }

        /// <summary>The usable training (or validation) rows in input order; the same array is reused for every row.</summary>
        public IEnumerable<float[]> Rows(bool validation)
        {
            var row = new float[width];
            using DataViewRowCursor cursor = data.GetRowCursor(columns);
            ReadTrainingRow read = bind(cursor, validation);
            while (cursor.MoveNext())
            {
                if (IsValidation(seed, cursor.Position, validationFraction) != validation) continue;
                if (read(row)) yield return row;
            }
        }

        // One tensor for a pass's batches: each batch is copied into its memory (converted when the flow is float64)
        // and handed out as a view of its first rows, which the trainer disposes; the storage lives until the pass ends.
        private sealed class BatchTensor : IDisposable
        {
            private readonly Tensor single;
            private readonly Tensor? converted;
            private readonly int width;

            public BatchTensor(int batchSize, int width, ScalarType type)
            {
                this.width = width;
                single = empty(new long[] { batchSize, width }, ScalarType.Float32);
                converted = type == ScalarType.Float32 ? null : empty(new long[] { batchSize, width }, type);
            }

            public Tensor Fill(float[] values, int rows)
            {
                using (var access = single.data<float>()) access.CopyFrom(values.AsSpan(0, rows * width));
                if (converted is null) return single.narrow(0, 0, rows);
                using (no_grad()) converted.copy_(single);
                return converted.narrow(0, 0, rows);
            }

            public void Dispose()
            {
                single.Dispose();
                converted?.Dispose();
            }
        }
    }

    /// <summary>A seeded hash of a row position: the same row gets the same value in any pass, block or path.</summary>
    internal static class RowHash
    {
        public static ulong Mix(int seed, long position)
        {
            ulong x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)position + 0x632BE59BD9B4E019UL);
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }

        /// <summary>A uniform value in [0, 1).</summary>
        public static double Uniform(int seed, long position) => (Mix(seed, position) >> 11) * (1.0 / (1UL << 53));
    }
}
