using System.Diagnostics;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>What the benchmarks share: the median of timed repeats after a warm-up, and batched ONNX Runtime scoring.</summary>
    internal static class Timing
    {
        /// <summary>Seconds per run: one warm-up, then the median of <paramref name="repeats"/> timed runs.</summary>
        public static double Median(Action action, int repeats)
        {
            action();
            var times = new List<double>();
            for (int i = 0; i < repeats; i++) times.Add(Seconds(action));
            return Median(times);
        }

        /// <summary>Seconds one run of <paramref name="action"/> takes.</summary>
        public static double Seconds(Action action)
        {
            var watch = Stopwatch.StartNew();
            action();
            return watch.Elapsed.TotalSeconds;
        }

        /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count, as Python's statistics.median); NaN when empty or when any value is NaN.</summary>
        public static double Median(IEnumerable<double> values)
        {
            double[] sorted = values.ToArray();
            if (sorted.Length == 0 || sorted.Any(double.IsNaN)) return double.NaN;
            Array.Sort(sorted);
            int middle = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }

        /// <summary>Scores row-major <paramref name="values"/> with a density graph, 4096 rows per Run, as the transformer does.</summary>
        public static void OrtScore(InferenceSession session, float[] values, int d)
        {
            int rows = values.Length / d;
            using var runOptions = new RunOptions();
            for (int start = 0; start < rows; start += 4096)
            {
                int count = Math.Min(4096, rows - start);
                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values.AsMemory(start * d, count * d), new long[] { count, d });
                using var results = session.Run(runOptions, new[] { FlowOnnx.FeaturesName }, new[] { input }, new[] { FlowOnnx.LogDensityName });
            }
        }
    }
}
