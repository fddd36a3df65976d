using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Peak memory of a streamed fit over 1e4, 1e5 and 1e6 generated rows: each fit runs in its own child process (one
    /// epoch, RealNVP, d = 8, batch 512) over an IDataView that generates its rows on the fly, and reports the process's
    /// peak working set; the table gives each peak as a ratio to the 1e4-row fit's.
    /// </summary>
    internal static class MemoryBenchmark
    {
        private const int Dimension = 8;

        public static int Run(string[] args)
        {
            long[] sizes = args.Length > 0 ? args[0].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray() : new long[] { 10_000, 100_000, 1_000_000 };
            Console.WriteLine($"Peak memory of a streamed fit (child process each; RealNVP d = {Dimension}, batch 512, 1 epoch, shuffle buffer 65 536 rows)");
            Console.WriteLine("| rows | peak working set MiB | ratio to the first | fit seconds |");
            Console.WriteLine("|---|---|---|---|");
            double first = double.NaN;
            foreach (long rows in sizes)
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
                if (!Environment.ProcessPath!.EndsWith("Benchmarks", StringComparison.Ordinal)) start.ArgumentList.Add(typeof(MemoryBenchmark).Assembly.Location);
                start.ArgumentList.Add("memory-child");
                start.ArgumentList.Add(rows.ToString(CultureInfo.InvariantCulture));
                using Process child = Process.Start(start)!;
                string[] result = child.StandardOutput.ReadToEnd().Trim().Split(' ');
                child.WaitForExit();
                double peak = double.Parse(result[0], CultureInfo.InvariantCulture) / (1 << 20);
                if (double.IsNaN(first)) first = peak;
                Console.WriteLine(FormattableString.Invariant($"| {rows:N0} | {peak:F0} | {peak / first:F2}x | {result[1]} |"));
            }
            return 0;
        }

        /// <summary>The child: fits once and prints its peak working set in bytes and the fit's seconds.</summary>
        public static int Child(long rows)
        {
            var ml = new MLContext(seed: 0);
            var watch = Stopwatch.StartNew();
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                Preset = FlowPreset.RealNvp, MaxEpochs = 1, BatchSize = 512, NumberOfThreads = 1, TrainingData = TrainingDataCache.Stream, ValidationFraction = 0.01,
            }).Fit(new GeneratedRows(rows, Dimension));
            Console.WriteLine(FormattableString.Invariant($"{Process.GetCurrentProcess().PeakWorkingSet64} {watch.Elapsed.TotalSeconds:F1}"));
            return 0;
        }

        /// <summary>Rows of a correlated Gaussian, generated from the row position when a cursor reads them; nothing is stored.</summary>
        private sealed class GeneratedRows : IDataView
        {
            private readonly long count;
            private readonly int dimension;

            public GeneratedRows(long count, int dimension)
            {
                this.count = count;
                this.dimension = dimension;
                var builder = new DataViewSchema.Builder();
                builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, dimension));
                Schema = builder.ToSchema();
            }

            public bool CanShuffle => false;

            public DataViewSchema Schema { get; }

            public long? GetRowCount() => count;

            public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

            public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => new[] { GetRowCursor(columnsNeeded) };

            private sealed class Cursor : DataViewRowCursor
            {
                private readonly GeneratedRows view;
                private long position = -1;

                public Cursor(GeneratedRows view) => this.view = view;

                public override DataViewSchema Schema => view.Schema;

                public override long Position => position;

                public override long Batch => 0;

                public override bool IsColumnActive(DataViewSchema.Column column) => true;

                public override bool MoveNext() => ++position < view.count;

                public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

                public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
                {
                    ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
                    {
                        var random = new Random(unchecked((int)position * 31 + 7));
                        VBufferEditor<float> editor = VBufferEditor.Create(ref value, view.dimension);
                        double shared = random.NextDouble() * 2 - 1;
                        for (int j = 0; j < view.dimension; j++) editor.Values[j] = (float)(shared + 0.5 * (random.NextDouble() * 2 - 1) + j);
                        value = editor.Commit();
                    };
                    return (ValueGetter<TValue>)(object)getter;
                }
            }
        }
    }
}
