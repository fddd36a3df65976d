using System.Globalization;
using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// The CUDA check, for a machine with an NVIDIA GPU (<c>build/cuda-benchmark.sh</c>): for every preset (5 layers,
    /// 64 x 2 hidden, d = 16), the density graph on the CUDA provider against the CPU provider on the same rows
    /// (max |difference| of log-density and latent, target 1e-4 absolute or 1e-5 relative), and CUDA rows/s at 4096 and
    /// 65536 rows per call (median of 5 after a warm-up). Without CUDA it says so and exits 3.
    /// </summary>
    internal static class CudaBenchmark
    {
        public static int Run(string[] args)
        {
            int device = 0, d = 16;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--gpu": device = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--d": d = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }
            set_num_threads(1);
            Console.WriteLine($"CUDA provider (device {device}) against the CPU provider, d = {d}, 5 layers, 64 x 2 hidden");
            Console.WriteLine("| preset | max abs diff log-density | max abs diff latent | within 1e-4 | CUDA rows/s at 4096 per call | CUDA rows/s at 65536 per call | CPU rows/s at 4096 per call |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            bool allWithin = true;
            foreach (FlowPreset preset in Enum.GetValues<FlowPreset>())
            {
                using var scope = NewDisposeScope();
                var architecture = new FlowArchitecture { Preset = preset, NumberOfLayers = 5, HiddenUnits = 64, HiddenLayers = 2 };
                using NormalizingFlow flow = FlowFactory.Create(d, architecture, seed: 0, new Standardization(new double[d], Enumerable.Repeat(1.0, d).ToArray()));
                using (no_grad())
                    foreach (var p in flow.parameters()) p.add_(randn(p.shape, generator: new Generator().manual_seed(3)) * 0.1);
                byte[] model = FlowOnnx.ExportDensity(flow);
                float[] rows = randn(65_536, d, generator: new Generator().manual_seed(2)).data<float>().ToArray();
                using var cpu = new InferenceSession(model, Options(null));
                InferenceSession gpu;
                try
                {
                    gpu = new InferenceSession(model, Options(device));
                }
                catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException)
                {
                    Console.WriteLine($"No CUDA provider here ({e.Message.Split('\n')[0]}); run this on the GPU machine.");
                    return 3;
                }
                using (gpu)
                {
                    (float[] cpuLogDensity, float[] cpuLatent) = Score(cpu, rows, 4096, d);
                    (float[] gpuLogDensity, float[] gpuLatent) = Score(gpu, rows, 4096, d);
                    double logDensityDiff = MaxExcess(cpuLogDensity, gpuLogDensity, out bool a), latentDiff = MaxExcess(cpuLatent, gpuLatent, out bool b);
                    allWithin &= a && b;
                    Console.WriteLine(FormattableString.Invariant(
                        $"| {preset} | {logDensityDiff:E2} | {latentDiff:E2} | {(a && b ? "yes" : "NO")} | {RowsPerSecond(gpu, rows, 4096, d):N0} | {RowsPerSecond(gpu, rows, 65_536, d):N0} | {RowsPerSecond(cpu, rows, 4096, d):N0} |"));
                }
            }
            return allWithin ? 0 : 1;
        }

        private static SessionOptions Options(int? device)
        {
            var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, IntraOpNumThreads = 1 };
            if (device is int id) options.AppendExecutionProvider_CUDA(id);
            return options;
        }

        private static (float[] LogDensity, float[] Latent) Score(InferenceSession session, float[] rows, int perCall, int d)
        {
            int count = rows.Length / d;
            var logDensity = new float[count];
            var latent = new float[rows.Length];
            using var runOptions = new RunOptions();
            for (int start = 0; start < count; start += perCall)
            {
                int n = Math.Min(perCall, count - start);
                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, rows.AsMemory(start * d, n * d), new long[] { n, d });
                using var results = session.Run(runOptions, new[] { FlowOnnx.FeaturesName }, new[] { input }, new[] { FlowOnnx.LogDensityName, FlowOnnx.LatentName });
                results[0].GetTensorDataAsSpan<float>().CopyTo(logDensity.AsSpan(start));
                results[1].GetTensorDataAsSpan<float>().CopyTo(latent.AsSpan(start * d));
            }
            return (logDensity, latent);
        }

        private static double RowsPerSecond(InferenceSession session, float[] rows, int perCall, int d) =>
            rows.Length / d / Timing.Median(() => Score(session, rows, perCall, d), 5);

        // The largest |a - b|, and whether every element is within max(1e-4, 1e-5 |a|).
        private static double MaxExcess(float[] a, float[] b, out bool within)
        {
            double worst = 0;
            within = true;
            for (int i = 0; i < a.Length; i++)
            {
                double diff = Math.Abs(a[i] - b[i]);
                worst = Math.Max(worst, diff);
                if (!(diff <= Math.Max(1e-4, 1e-5 * Math.Abs(a[i])))) within = false;
            }
            return worst;
        }
    }
}
