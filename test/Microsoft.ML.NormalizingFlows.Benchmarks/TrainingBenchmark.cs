using System.Globalization;
using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Training;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Training-step time (Adam, batch 512, one thread), batched ONNX Runtime scoring and TorchSharp sampling throughput
    /// per preset and dimension, side by side with the PyTorch eager reference (build/pytorch_reference.py, the standard
    /// formulation of the public flow libraries, run with Debian's python3-torch as a child process). The C# and PyTorch
    /// runs alternate (after a warm-up on both sides: C# train, PyTorch train, C# score, PyTorch score per repeat) and
    /// the table reports medians. Ratios are withheld when PyTorch runs on the reference BLAS.
    /// </summary>
    internal static class TrainingBenchmark
    {
        private const int Batch = 512, ScoreRows = 50_000, Layers = 5, HiddenUnits = 64, HiddenLayers = 2;

        public static int Run(string[] args)
        {
            int steps = 30, repeats = 5;
            int[] dims = { 2, 16, 64 };
            FlowPreset[] presets = { FlowPreset.RealNvp, FlowPreset.MaskedAutoregressive, FlowPreset.NeuralSplineCoupling };
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--steps": steps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--dims": dims = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                    case "--presets": presets = args[++i].Split(',').Select(s => Enum.Parse<FlowPreset>(s.Trim(), ignoreCase: true)).ToArray(); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }
            if (steps < 1 || repeats < 1 || dims.Any(d => d < 1))
            {
                Console.Error.WriteLine("--steps, --repeats and every dimension must be at least 1");
                return 2;
            }
            set_num_threads(1);
            using PyTorchReference? torch = PyTorchReference.Start(out string whyNot);
            bool ratios = torch is not null && !torch.OnReferenceBlas;
            string blas = torch?.BlasKind ?? "-";

            Console.WriteLine($"Training step (batch {Batch}, 1 thread, median of {repeats} repeats x {steps} steps, alternating C# and PyTorch), " +
                              $"scoring and sampling rows/s ({ScoreRows:N0} rows, 4096 per call); {Layers} layers, {HiddenUnits} hidden units x {HiddenLayers}");
            Console.WriteLine(torch is null ? whyNot : $"PyTorch {torch.TorchVersion} eager, 1 thread, BLAS: {torch.BlasDescription}");
            if (torch is not null && torch.OnReferenceBlas)
                Console.WriteLine("PyTorch's matmul runs on the reference BLAS (netlib libblas3), which is many times slower than an optimized one: " +
                                  "ratios withheld. Install OpenBLAS and rerun: apt-get install libopenblas0-pthread");
            Console.WriteLine($"| preset | d | C# step ms | PyTorch ({blas}) step ms | C# / PyTorch | ORT batched scoring rows/s | PyTorch ({blas}) log_prob rows/s | ORT / PyTorch | TorchSharp sampling rows/s | ONNX density nodes |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (FlowPreset preset in presets)
                foreach (int d in dims)
                    Console.WriteLine(Row(preset, d, steps, repeats, torch, ratios));
            foreach (string error in torch?.Errors ?? new List<string>()) Console.WriteLine($"PyTorch reference error: {error}");
            return 0;
        }

        private static string Row(FlowPreset preset, int d, int steps, int repeats, PyTorchReference? torch, bool ratios)
        {
            using var scope = NewDisposeScope();
            var architecture = new FlowArchitecture { Preset = preset, NumberOfLayers = Layers, HiddenUnits = HiddenUnits, HiddenLayers = HiddenLayers };
            using NormalizingFlow flow = FlowFactory.Create(d, architecture, seed: 0, new Standardization(new double[d], Enumerable.Repeat(1.0, d).ToArray()), ScalarType.Float32);
            using Tensor rows = randn(Batch * steps, d, generator: new Generator().manual_seed(1));
            var options = new MaximumLikelihoodOptions { MaxEpochs = 1, BatchSize = Batch, Seed = 0, NumberOfThreads = 1, Schedule = LearningRateSchedule.Constant };
            float[] values = randn(ScoreRows, d, generator: new Generator().manual_seed(2)).data<float>().ToArray();
            byte[] model = FlowOnnx.ExportDensity(flow, new FlowFileMetadata());
            int nodes = global::Onnx.ModelProto.Parser.ParseFrom(model).Graph.Node.Count;
            using var sessionOptions = new SessionOptions
            {
                IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, // not the unused-initializer warnings of every export
            };
            using var session = new InferenceSession(model, sessionOptions);
            bool reference = torch is not null && torch.Build(preset.ToString(), d, Layers, HiddenUnits, HiddenLayers, Batch, steps, ScoreRows);

            void Train() => MaximumLikelihoodTrainer.Fit(flow, rows, null, options);
            void Score() => Timing.OrtScore(session, values, d);
            // Warm-up on both sides, then alternate: C# train, PyTorch train, C# score, PyTorch score.
            Train();
            if (reference) torch!.Train(steps);
            Score();
            if (reference) torch!.Score(ScoreRows);
            var (train, torchTrain, score, torchScore) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            for (int r = 0; r < repeats; r++)
            {
                train.Add(Timing.Seconds(Train));
                torchTrain.Add(reference ? torch!.Train(steps) : double.NaN);
                score.Add(Timing.Seconds(Score));
                torchScore.Add(reference ? torch!.Score(ScoreRows) : double.NaN);
            }
            double step = Timing.Median(train) / steps * 1000, torchStep = Timing.Median(torchTrain) / steps * 1000;
            double scoring = ScoreRows / Timing.Median(score), torchScoring = ScoreRows / Timing.Median(torchScore);
            // Autoregressive sampling takes d sequential passes per layer: 4096 rows (one call) measure it well enough.
            int sampleRows = preset == FlowPreset.MaskedAutoregressive ? 4096 : ScoreRows;
            double sampling = sampleRows / Timing.Median(() => Sample(flow, sampleRows), repeats);
            double stepRatio = ratios ? step / torchStep : double.NaN, scoreRatio = ratios ? scoring / torchScoring : double.NaN;
            return FormattableString.Invariant(
                $"| {preset} | {d} | {step:F2} | {Text(torchStep, "F2")} | {Text(stepRatio, "F2")}{(double.IsFinite(stepRatio) ? "x" : "")} | {scoring:N0} | {Text(torchScoring, "N0")} | {Text(scoreRatio, "F1")}{(double.IsFinite(scoreRatio) ? "x" : "")} | {sampling:N0} | {nodes} |");
        }

        private static string Text(double value, string format) => PyTorchReference.Text(value, format);

        private static void Sample(NormalizingFlow flow, int rows)
        {
            using var noGrad = no_grad();
            for (int start = 0; start < rows; start += 4096)
            {
                using var step = NewDisposeScope();
                flow.Sample(Math.Min(4096, rows - start)).sum().item<float>();
            }
        }
    }
}
