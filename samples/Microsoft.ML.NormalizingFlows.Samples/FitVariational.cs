using System.Globalization;
using Microsoft.ML.NormalizingFlows.Inference;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// Variational inference: fit a spline flow to the banana and to Neal's funnel (unnormalized log-densities), print
    /// the ELBO, the importance-sampled log Z against the exact one, the effective sample size and the Pareto k-hat,
    /// and draw the target's density with the flow's samples over it.
    /// </summary>
    /// <example>
    /// <code>
    /// dotnet run --project samples/Microsoft.ML.NormalizingFlows.Samples -- vi
    /// banana: ELBO 2.3... ± 0.00..., log Z estimate 2.3... (exact 2.5310), ESS 99.. per 1000, k-hat 0.3.
    /// </code>
    /// </example>
    internal static class FitVariational
    {
        public static int Example(string outputFolder, int iterations, int seed)
        {
            Directory.CreateDirectory(outputFolder);
            set_num_threads(1);
            foreach (VariationalTarget target in new[] { Targets.Banana(), Targets.Funnel() })
            {
                using NormalizingFlow q = FlowFactory.Create(target.Dimension, new FlowArchitecture
                {
                    Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 4, HiddenUnits = 32, TailBound = 6,
                }, seed);
                Console.WriteLine($"{target.Name}: fitting with the sticking-the-landing ELBO, {iterations} steps of 128 draws");
                VariationalInference.Fit(q, target.LogDensity, new Elbo(GradientEstimator.StickingTheLanding), new VariationalInferenceOptions
                {
                    Iterations = iterations, SamplesPerStep = 128, LearningRate = 3e-3, Seed = seed, ReportEvery = iterations / 5,
                    Log = line => Console.WriteLine("  " + line),
                });
                VariationalReport report = VariationalDiagnostics.Evaluate(q, target.LogDensity, 10_000, seed + 1);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{target.Name}: ELBO {report.Elbo:F4} ± {report.ElboStandardError:F4}, log Z estimate {report.LogNormalizer:F4} " +
                    $"(exact {target.LogNormalizer:F4}), ESS {report.EffectiveSamplesPerThousand:F0} per 1000, k-hat {report.ParetoK:F2} " +
                    $"({(report.ParetoK < 0.5 ? "good" : report.ParetoK < 0.7 ? "usable" : "unreliable")})"));

                float[] samples;
                using (no_grad()) samples = q.Sample(1500, new Generator().manual_seed(seed + 2)).data<float>().ToArray();
                string path = Path.Combine(outputFolder, $"vi-{target.Name}.png");
                DensityPicture.HeatMapWithPoints(path, x => target.LogDensity(x) - target.LogNormalizer,
                    DensityPicture.Column(samples, target.Dimension, 0), DensityPicture.Column(samples, target.Dimension, 1),
                    "x1", "x2", $"{target.Name}: target {(target.Name == "funnel" ? "log density" : "density")} (heat map) and flow samples (white)",
                    logColors: target.Name == "funnel");
                Console.WriteLine($"Wrote {path}");
            }
            return 0;
        }
    }
}
