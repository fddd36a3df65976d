using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Scoring throughput, rows per second (median of repeated runs after a warm-up), for a 2-D and a 32-D RealNVP flow:
    /// batched (NormalizingFlowTransformer.Transform, ONNX Runtime, 4096 rows per Run), the same ONNX graph alone on
    /// arrays, ML.NET's per-row ApplyOnnxModel (the pipeline saved and loaded back), and TorchSharp.
    /// </summary>
    internal static class ScoringBenchmark
    {
        private static int repeats;

        public static int Run(string[] args)
        {
            int rows = 50000;
            repeats = 5;
            int? gpu = null;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--rows": rows = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--gpu": gpu = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }

            Console.WriteLine($"Scoring throughput, {rows} rows, median of {repeats} runs; TorchSharp threads {get_num_threads()}, ONNX Runtime default threads; {Environment.ProcessorCount} cores");
            Console.WriteLine("| d | batched transformer rows/s | ONNX Runtime graph alone rows/s | ML.NET per-row ApplyOnnxModel rows/s | TorchSharp rows/s | batched / per-row | batched / TorchSharp | provider |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (int d in new[] { 2, 32 })
            {
                var ml = new MLContext(seed: 0);
                var random = new Random(d);
                float[] values = Enumerable.Range(0, rows * d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
                IDataView data = FeatureRows.Load(ml, values, d);
                using NormalizingFlowTransformer flow = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
                {
                    Preset = FlowPreset.RealNvp, NumberOfLayers = 8, HiddenUnits = 64, MaxEpochs = 1, ValidationFraction = 0, GpuDeviceId = gpu, FallbackToCpu = true,
                }).Fit(ml.Data.TakeRows(data, 2000));

                string zip = Path.Combine(Path.GetTempPath(), $"nf-bench-{d}.zip");
                ml.Model.Save(flow, data.Schema, zip);
                ITransformer perRow = ml.Model.Load(zip, out _);

                double batched = Measure(() => Consume(flow.Transform(data)));
                double mlnet = Measure(() => Consume(perRow.Transform(data)));
                using NormalizingFlow torchFlow = flow.CopyFlow();
                double torch = Measure(() => TorchScore(torchFlow, values, d));
                using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(flow.ExportDensityOnnx());
                double graphOnly = Measure(() => Timing.OrtScore(session, values, d));
                Console.WriteLine(FormattableString.Invariant(
                    $"| {d} | {rows / batched:N0} | {rows / graphOnly:N0} | {rows / mlnet:N0} | {rows / torch:N0} | {mlnet / batched:F1}x | {torch / batched:F1}x | {flow.ScoringProvider} |"));
                File.Delete(zip);
            }
            return 0;
        }


        private static double Measure(Action action) => Timing.Median(action, repeats);

        private static void Consume(IDataView scored)
        {
            double sum = 0;
            foreach (float v in scored.GetColumn<float>("LogDensity")) sum += v;
            if (double.IsNaN(sum)) Console.Write("");
        }

        private static void TorchScore(NormalizingFlow flow, float[] values, int d)
        {
            int rows = values.Length / d;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using Tensor all = tensor(values, new long[] { rows, d });
            for (int start = 0; start < rows; start += 4096)
            {
                using var step = NewDisposeScope();
                flow.LogDensity(all.narrow(0, start, Math.Min(4096, rows - start))).sum().item<float>();
            }
        }

    }

        internal static class FeatureRows
        {
            public static IDataView Load(MLContext ml, float[] values, int d)
            {
                var rows = Enumerable.Range(0, values.Length / d).Select(i => new Row { Features = values[(i * d)..((i + 1) * d)] }).ToList();
                SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
                schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
                return ml.Data.LoadFromEnumerable(rows, schema);
            }

            private sealed class Row
            {
                public float[] Features = Array.Empty<float>();
            }
        }

}
