using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.NormalizingFlows.Inference;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Variational inference on the target zoo at a fixed budget, for each objective/estimator: the ELBO gap to the exact
    /// log Z (nats; 0 is perfect), the effective sample size per 1000 draws, the Pareto k-hat and the wall time.
    /// </summary>
    internal static class VariationalBenchmark
    {
        public static int Run(string[] args)
        {
            int iterations = 2000;
            FlowPreset preset = FlowPreset.NeuralSplineCoupling;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--preset": preset = Enum.Parse<FlowPreset>(args[++i]); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }
            set_num_threads(1);
            Console.WriteLine($"Variational inference, {preset} (4 layers x 32 units, 8 bins), {iterations} Adam steps of 128 draws, lr 3e-3 cosine; " +
                              "diagnostics from 10,000 draws; 1 thread");
            Console.WriteLine("| target | objective | ELBO gap to log Z (nats) | log Z estimate error | ESS per 1000 | k-hat | seconds |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (VariationalTarget target in Targets.All())
            {
                foreach (IVariationalObjective objective in new IVariationalObjective[]
                         { new Elbo(), new Elbo(GradientEstimator.StickingTheLanding), new RenyiAlphaDivergence(0.5) })
                {
                    using NormalizingFlow flow = FlowFactory.Create(target.Dimension, new FlowArchitecture
                    {
                        Preset = preset, NumberOfLayers = 4, HiddenUnits = 32, NumberOfBins = 8, TailBound = 10,
                    }, seed: 1);
                    var watch = Stopwatch.StartNew();
                    VariationalInference.Fit(flow, target.LogDensity, objective,
                        new VariationalInferenceOptions { Iterations = iterations, SamplesPerStep = 128, LearningRate = 3e-3, Seed = 2 });
                    double seconds = watch.Elapsed.TotalSeconds;
                    VariationalReport report = VariationalDiagnostics.Evaluate(flow, target.LogDensity, 10_000, seed: 3);
                    Console.WriteLine(FormattableString.Invariant(
                        $"| {target.Name} | {objective.Name} | {target.LogNormalizer - report.Elbo:F4} | {report.LogNormalizer - target.LogNormalizer:F4} | {report.EffectiveSamplesPerThousand:F0} | {report.ParetoK:F2} | {seconds:F1} |"));
                }
            }
            return 0;
        }
    }
}
