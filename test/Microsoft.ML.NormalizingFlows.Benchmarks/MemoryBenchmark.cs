using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Peak memory of a streamed fit over 1e4, 1e5 and 1e6 generated rows: each fit runs in its own child process
    /// (RealNVP, d = 8, batch 512, the same number of optimizer steps for every size: 1e6 rows / 512 per batch, so the
    /// row count is the only difference) over an IDataView that generates its rows on the fly, and reports the
    /// process's peak working set; the table gives each peak as a ratio to the first fit's. With NF_MEMORY_TRACE=1 a
    /// child also writes its resident memory, managed heap and live tensors at each log line, and its /proc Rss split.
    /// Arguments: the row counts (comma-separated, optional), and --trim to fit with TrimNativeMemory (malloc_trim).
    /// </summary>
    internal static class MemoryBenchmark
    {
        private const int Dimension = 8;

        public static int Run(string[] args)
        {
            bool trim = args.Contains("--trim");
            string[] counts = args.Where(a => a != "--trim").ToArray();
            long[] sizes = counts.Length > 0 ? counts[0].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray() : new long[] { 10_000, 100_000, 1_000_000 };
            long largest = sizes.Max();
            Console.WriteLine($"Peak memory of a streamed fit (child process each; RealNVP d = {Dimension}, batch 512, {largest:N0} rows' worth of steps each, shuffle buffer 65 536 rows, " +
                $"TrimNativeMemory {trim})");
            Console.WriteLine("| rows | epochs | peak working set MiB | ratio to the first | fit seconds |");
            Console.WriteLine("|---|---|---|---|---|");
            double first = double.NaN;
            foreach (long rows in sizes)
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
                if (!Environment.ProcessPath!.EndsWith("Benchmarks", StringComparison.Ordinal)) start.ArgumentList.Add(typeof(MemoryBenchmark).Assembly.Location);
                start.ArgumentList.Add("memory-child");
                start.ArgumentList.Add(rows.ToString(CultureInfo.InvariantCulture));
                int epochs = (int)Math.Max(1, largest / rows);
                start.ArgumentList.Add(epochs.ToString(CultureInfo.InvariantCulture));
                if (trim) start.ArgumentList.Add("--trim");
                using Process child = Process.Start(start)!;
                string[] result = child.StandardOutput.ReadToEnd().Trim().Split(' ');
                child.WaitForExit();
                double peak = double.Parse(result[0], CultureInfo.InvariantCulture) / (1 << 20);
                if (double.IsNaN(first)) first = peak;
                Console.WriteLine(FormattableString.Invariant($"| {rows:N0} | {epochs} | {peak:F0} | {peak / first:F2}x | {result[1]} |"));
            }
            return 0;
        }

        /// <summary>The child: fits once and prints its peak working set in bytes and the fit's seconds.</summary>
        public static int Child(long rows, int epochs, bool trim)
        {
            var ml = new MLContext(seed: 0);
            if (Environment.GetEnvironmentVariable("NF_MEMORY_TRACE") == "1")
                ml.Log += (_, e) =>
                {
                    if (e.Source.Contains("NormalizingFlow", StringComparison.Ordinal))
                        Console.Error.WriteLine($"{Environment.WorkingSet >> 20} MiB (GC heap {GC.GetGCMemoryInfo().HeapSizeBytes >> 20} MiB, live tensors {TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount}): {e.Message}");
                };
            var watch = Stopwatch.StartNew();
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                Preset = FlowPreset.RealNvp, MaxEpochs = epochs, BatchSize = 512, EarlyStoppingPatience = 0,
                NumberOfThreads = 1, TrainingData = TrainingDataCache.Stream, ValidationFraction = 0.01, TrimNativeMemory = trim,
            }).Fit(new GeneratedRows(rows, Dimension));
            if (Environment.GetEnvironmentVariable("NF_MEMORY_TRACE") == "1")
                Console.Error.WriteLine(string.Join(" ", File.ReadAllLines("/proc/self/status").Where(l => l.StartsWith("Rss", StringComparison.Ordinal) || l.StartsWith("VmHWM", StringComparison.Ordinal))));
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
                        VBufferEditor<float> editor = VBufferEditor.Create(ref value, view.dimension);
                        ulong state = (ulong)position * 0x9E3779B97F4A7C15UL + 1;
                        double shared = Uniform(ref state) * 2 - 1;
                        for (int j = 0; j < view.dimension; j++) editor.Values[j] = (float)(shared + 0.5 * (Uniform(ref state) * 2 - 1) + j);
                        value = editor.Commit();
                    };
                    return (ValueGetter<TValue>)(object)getter;
                }

                // SplitMix64: a uniform value from the row's own state, no allocation per row.
                private static double Uniform(ref ulong state)
                {
                    ulong z = state += 0x9E3779B97F4A7C15UL;
                    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                    return ((z ^ (z >> 31)) >> 11) * (1.0 / (1UL << 53));
                }
            }
        }
    }
}
