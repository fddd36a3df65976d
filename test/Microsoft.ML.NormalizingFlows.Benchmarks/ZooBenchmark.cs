using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows;
using Microsoft.ML.NormalizingFlows.Training;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Preset quality at a fixed training budget, on generated data with a known density: the held-out KL gap (true
    /// mean log-density minus the model's, nats; 0 is perfect) and the training time per epoch, on the data sets of
    /// <see cref="KnownDensity.All"/> (selected by name prefix with --data).
    /// </summary>
    internal static class ZooBenchmark
    {
        public static int Run(string[] args)
        {
            int epochs = 40;
            FlowPreset[] presets = Enum.GetValues<FlowPreset>();
            // The training protocol: the defaults unless given (patience in steps; "epochs:N" for N epochs' worth of steps).
            var defaults = new NormalizingFlowEstimator.Options();
            LearningRateSchedule schedule = defaults.Schedule;
            int warmup = defaults.WarmupSteps, interval = defaults.ValidationInterval;
            double average = defaults.AverageDecay, weightDecay = defaults.WeightDecay;
            string patience = defaults.EarlyStoppingPatience?.ToString(CultureInfo.InvariantCulture) ?? "auto";
            string only = "";
            bool sklearn = false;
            BaseDistributionKind baseKind = defaults.BaseDistribution;
            int components = defaults.MixtureComponents;
            int? trainRows = null;
            int seeds = 1;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--epochs": epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--presets": presets = args[++i].Split(',').Select(Enum.Parse<FlowPreset>).ToArray(); break;
                    case "--schedule": schedule = Enum.Parse<LearningRateSchedule>(args[++i]); break;
                    case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--interval": interval = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--average": average = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--weight-decay": weightDecay = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--patience": patience = args[++i]; break;
                    case "--data": only = args[++i]; break;
                    case "--sklearn": sklearn = true; break;
                    case "--no-flows": presets = Array.Empty<FlowPreset>(); break;
                    case "--base": baseKind = Enum.Parse<BaseDistributionKind>(args[++i]); break;
                    case "--components": components = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--train-rows": trainRows = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--seeds": seeds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }

            Console.WriteLine($"KL gap (true minus model mean held-out log-density, nats) after at most {epochs} epochs; 5 layers x 64 units, 8 bins, batch 256, " +
                              $"Adam 2e-3, schedule {schedule}, warm-up {warmup}, validation interval {interval}, patience {patience}, average {average}, " +
                              $"weight decay {weightDecay}, base {baseKind}{(baseKind == BaseDistributionKind.GaussianMixture ? $" ({components} components)" : "")}, " +
                              $"10% validation; {(trainRows is int n ? $"{n} rows, " : "")}{(seeds > 1 ? $"mean over seeds 1 to {seeds}, " : "")}{Environment.ProcessorCount} cores, TorchSharp threads 1");
            Console.WriteLine("| data | preset | KL gap (nats) | epochs run | seconds per epoch |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (KnownDensity data in KnownDensity.All())
            {
                if (only.Length > 0 && !data.Name.StartsWith(only, StringComparison.Ordinal)) continue;
                int rows = trainRows ?? data.TrainRows;
                long stepsPerEpoch = (long)Math.Ceiling(0.9 * rows / 256);
                long? patienceSteps = patience == "auto" ? null
                    : patience.StartsWith("epochs:", StringComparison.Ordinal) ? long.Parse(patience[7..], CultureInfo.InvariantCulture) * stepsPerEpoch
                    : long.Parse(patience, CultureInfo.InvariantCulture);
                float[] test = data.Sample(10_000, seed: 2);
                double trueMean = Enumerable.Range(0, 10_000).Average(i => data.LogDensity(test.AsSpan(i * data.Dimension, data.Dimension)));
                if (sklearn) SklearnRows(data, data.Sample(rows, seed: 1), test, trueMean);
                foreach (FlowPreset preset in presets)
                {
                    var gaps = new List<double>();
                    var runs = new List<(int Epochs, double Seconds)>();
                    for (int seed = 1; seed <= seeds; seed++)
                    {
                        float[] train = data.Sample(rows, seed: seed == 1 ? 1 : 100 + seed);
                        var ml = new MLContext(seed: 0);
                        var watch = Stopwatch.StartNew();
                        using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
                        {
                            Preset = preset, NumberOfLayers = 5, HiddenUnits = 64, NumberOfBins = 8, MaxEpochs = epochs, BatchSize = 256,
                            LearningRate = 2e-3, ValidationFraction = 0.1, EarlyStoppingPatience = patienceSteps, Seed = seed, NumberOfThreads = 1,
                            BaseDistribution = baseKind, MixtureComponents = components, Schedule = schedule, WarmupSteps = warmup, ValidationInterval = interval, AverageDecay = average, WeightDecay = weightDecay,
                        }).Fit(FeatureRows.Load(ml, train, data.Dimension));
                        runs.Add((model.TrainingHistory.Epochs[^1].Epoch, watch.Elapsed.TotalSeconds));
                        gaps.Add(trueMean - model.Transform(FeatureRows.Load(ml, test, data.Dimension)).GetColumn<float>("LogDensity").Average(v => (double)v));
                    }
                    // Seconds per epoch: the whole fit's wall time (Auto's short fits included) over the epochs of the kept fit.
                    Console.WriteLine(FormattableString.Invariant(
                        $"| {data.Name} | {preset} | {gaps.Average():F4}{(seeds > 1 ? $" (seeds {string.Join(", ", gaps.Select(g => g.ToString("F3", CultureInfo.InvariantCulture)))})" : "")} | {runs.Average(r => r.Epochs):F0} | {runs.Sum(r => r.Seconds) / runs.Sum(r => r.Epochs):F2} |"));
                }
            }
            return 0;
        }

        // The scikit-learn models (build/sklearn_reference.py, Debian's python3-sklearn) on the same rows; a line saying
        // why when it is not installed. Fit seconds take the place of seconds per epoch.
        private static void SklearnRows(KnownDensity data, float[] train, float[] test, double trueMean)
        {
            IEnumerable<string> Csv(float[] values) => Enumerable.Range(0, values.Length / data.Dimension).Select(i =>
                string.Join(',', new ArraySegment<float>(values, i * data.Dimension, data.Dimension).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            System.Text.Json.Nodes.JsonArray? models = SklearnReference.Run(Array.Empty<string>(), new[] { ("train.csv", Csv(train)), ("test.csv", Csv(test)) },
                Array.Empty<string>(), out string? failure);
            if (models is null)
            {
                Console.WriteLine($"| {data.Name} | scikit-learn not run: {failure} (install python3-sklearn) | | | |");
                return;
            }
            foreach (System.Text.Json.Nodes.JsonNode? model in models)
                Console.WriteLine(FormattableString.Invariant(
                    $"| {data.Name} | sklearn {model!["name"]} ({model["setting"]}) | {trueMean - model["mean_log_density"]!.GetValue<double>():F4} | - | {model["seconds"]!.GetValue<double>():F1} s fit |"));
        }
    }
}
