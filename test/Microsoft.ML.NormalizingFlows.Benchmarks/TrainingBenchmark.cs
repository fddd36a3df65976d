using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Training-step time (Adam, batch 512, one thread, median of repeats after a warm-up), batched ONNX Runtime scoring
    /// and TorchSharp sampling throughput per preset and dimension, side by side with the PyTorch eager reference
    /// (build/pytorch_reference.py, run with Debian's python3-torch when present) in the same run.
    /// </summary>
    internal static class TrainingBenchmark
    {
        private const int Batch = 512, ScoreRows = 50_000;

        public static int Run(string[] args)
        {
            int steps = 30, repeats = 3;
            int[] dims = { 2, 16, 64 };
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--steps": steps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--dims": dims = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }
            set_num_threads(1);
            Dictionary<(string, int), JsonObject> reference = PyTorchReference(dims, steps, repeats);
            Console.WriteLine($"Training step (batch {Batch}, 1 thread, median of {repeats} x {steps} steps), scoring and sampling rows/s; 5 layers, 64 hidden units x 2");
            Console.WriteLine("| preset | d | C# step ms | PyTorch step ms | C# / PyTorch | ORT batched scoring rows/s | PyTorch log_prob rows/s | ORT / PyTorch | TorchSharp sampling rows/s |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (FlowPreset preset in new[] { FlowPreset.RealNvp, FlowPreset.MaskedAutoregressive, FlowPreset.NeuralSplineCoupling })
                foreach (int d in dims)
                {
                    using var scope = NewDisposeScope();
                    var architecture = new FlowArchitecture { Preset = preset, NumberOfLayers = 5, HiddenUnits = 64, HiddenLayers = 2 };
                    using NormalizingFlow flow = FlowFactory.Create(d, architecture, seed: 0, new Standardization(new double[d], Enumerable.Repeat(1.0, d).ToArray()), ScalarType.Float32);
                    using Tensor rows = randn(Batch * steps, d, generator: new Generator().manual_seed(1));
                    var options = new MaximumLikelihoodOptions { MaxEpochs = 1, BatchSize = Batch, Seed = 0, NumberOfThreads = 1, Schedule = LearningRateSchedule.Constant };
                    double step = Timing.Median(() => MaximumLikelihoodTrainer.Fit(flow, rows, null, options), repeats) / steps;
                    float[] values = randn(ScoreRows, d, generator: new Generator().manual_seed(2)).data<float>().ToArray();
                    using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(FlowOnnx.ExportDensity(flow, new FlowFileMetadata()), new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1 });
                    double scoring = ScoreRows / Timing.Median(() => Timing.OrtScore(session, values, d), repeats);
                    double sampling = ScoreRows / Timing.Median(() => Sample(flow), repeats);
                    JsonObject? torch = reference.GetValueOrDefault((preset.ToString(), d));
                    double torchStep = torch?["step_ms"]?.GetValue<double>() ?? double.NaN;
                    double torchScore = torch?["log_prob_rows_per_s"]?.GetValue<double>() ?? double.NaN;
                    Console.WriteLine(FormattableString.Invariant(
                        $"| {preset} | {d} | {step * 1000:F2} | {Text(torchStep, "F2")} | {Text(step * 1000 / torchStep, "F2")}x | {scoring:N0} | {Text(torchScore, "N0")} | {Text(scoring / torchScore, "F1")}x | {sampling:N0} |"));
                }
            if (reference.Count == 0) Console.WriteLine("PyTorch reference skipped: /usr/bin/python3 has no torch (apt-get install python3-torch).");
            return 0;
        }

        private static string Text(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";

        private static Dictionary<(string, int), JsonObject> PyTorchReference(int[] dims, int steps, int repeats)
        {
            var result = new Dictionary<(string, int), JsonObject>();
            string script = Path.Combine(AppContext.BaseDirectory, "pytorch_reference.py");
            var start = new ProcessStartInfo("/usr/bin/python3")
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
                ArgumentList = { script, "--dims", string.Join(',', dims), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--repeats", repeats.ToString(CultureInfo.InvariantCulture), "--score-rows", ScoreRows.ToString(CultureInfo.InvariantCulture) },
            };
            try
            {
                using Process process = Process.Start(start)!;
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0) return result;
                foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    JsonObject json = JsonNode.Parse(line)!.AsObject();
                    result[(json["preset"]!.GetValue<string>(), json["d"]!.GetValue<int>())] = json;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
            return result;
        }

        private static void Sample(NormalizingFlow flow)
        {
            using var noGrad = no_grad();
            for (int start = 0; start < ScoreRows; start += 4096)
            {
                using var step = NewDisposeScope();
                flow.Sample(Math.Min(4096, ScoreRows - start)).sum().item<float>();
            }
        }
    }
}
