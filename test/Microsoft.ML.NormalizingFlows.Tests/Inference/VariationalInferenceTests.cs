using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Inference;
using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Inference
{
    [TestClass]
    public sealed class VariationalInferenceTests
    {
        // The spline interval must cover the targets' mass (outside it each layer is the identity): the banana's second
        // coordinate reaches 0.25 (x1^2 - 4) = 8 at three standard deviations of x1. With B = 6 its arm tips were left to
        // the identity tails and the importance weights there heavy (k-hat 0.83 to 1.02 over four seeds, ELBO still
        // within 0.01 nats); with B = 10, k-hat 0.39 and 0.49.
        private static NormalizingFlow SplineFlow(int d) =>
            FlowFactory.Create(d, new FlowArchitecture { Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 4, HiddenUnits = 32, TailBound = 10 }, seed: 1);

        private static VariationalInferenceOptions Budget(int iterations, double learningRate = 3e-3) =>
            new() { Iterations = iterations, SamplesPerStep = 128, LearningRate = learningRate, Seed = 2 };

        [TestMethod]
        public void AnExactFlowHasElboEqualToLogZ()
        {
            // The target is a known flow p (random weights) scaled by exp(2.5); q is the same flow, so log w = 2.5 exactly.
            using var scope = NewDisposeScope();
            var architecture = new FlowArchitecture { Preset = FlowPreset.RealNvp, NumberOfLayers = 3, HiddenUnits = 16 };
            using NormalizingFlow p = FlowFactory.Create(2, architecture, seed: 5, elementType: ScalarType.Float64);
            using NormalizingFlow q = FlowFactory.Create(2, architecture, seed: 6, elementType: ScalarType.Float64);
            using (no_grad())
            {
                foreach (var parameter in p.parameters()) parameter.add_(randn_like(parameter) * 0.3);
                var source = p.state_dict();
                foreach ((string key, Tensor target) in q.state_dict()) target.copy_(source[key]);
            }
            VariationalReport report = VariationalDiagnostics.Evaluate(q, x => p.LogDensity(x) + 2.5, samples: 2000, seed: 1);
            Assert.AreEqual(2.5, report.Elbo, 1e-5);
            Assert.AreEqual(2.5, report.LogNormalizer, 1e-5);
            Assert.AreEqual(2000, report.EffectiveSampleSize, 1e-6);
        }

        [TestMethod]
        public void ACorrelatedGaussianIsRecovered()
        {
            using var scope = NewDisposeScope();
            (VariationalTarget target, double[] mean, double[,] covariance) = Targets.CorrelatedGaussian();
            using NormalizingFlow q = FlowFactory.Create(2, new FlowArchitecture { Preset = FlowPreset.RealNvp, NumberOfLayers = 4, HiddenUnits = 32 }, seed: 1);
            VariationalInference.Fit(q, target.LogDensity, new Elbo(), Budget(2000));
            Tensor samples;
            using (no_grad()) samples = q.Sample(40_000, new Generator().manual_seed(9)).to_type(ScalarType.Float64);
            double[] m = samples.mean(new long[] { 0 }).data<double>().ToArray();
            Tensor centered = samples - samples.mean(new long[] { 0 });
            double[] c = (centered.t().matmul(centered) / 40_000).data<double>().ToArray();
            for (int i = 0; i < 2; i++) Assert.AreEqual(mean[i], m[i], 0.05, $"mean {i}");
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) Assert.AreEqual(covariance[i, j], c[i * 2 + j], 0.05, $"covariance {i},{j}");
        }

        // A spline flow fitted with the STL ELBO: within 0.1 nats of log Z and k-hat below 0.7.
        private static NormalizingFlow FitWithinATenthOfANat(VariationalTarget target)
        {
            NormalizingFlow q = SplineFlow(2);
            VariationalInference.Fit(q, target.LogDensity, new Elbo(GradientEstimator.StickingTheLanding), Budget(1500));
            VariationalReport report = VariationalDiagnostics.Evaluate(q, target.LogDensity, 10_000, seed: 3);
            Assert.IsTrue(target.LogNormalizer - report.Elbo < 0.1, $"{target.Name}: ELBO {report.Elbo} vs log Z {target.LogNormalizer}");
            Assert.IsTrue(report.ParetoK < 0.7, $"{target.Name}: k-hat {report.ParetoK}");
            return q;
        }

        [TestMethod]
        public void TheBananaIsFittedToWithinATenthOfANat()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow q = FitWithinATenthOfANat(Targets.Banana());
        }

        [TestMethod]
        public void TheCrossIsFittedWithEveryModeCovered()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow q = FitWithinATenthOfANat(Targets.Cross());

            // Each sample belongs to the arm it is nearest to (the modes' means).
            Tensor x;
            using (no_grad()) x = q.Sample(10_000, new Generator().manual_seed(4));
            float[] v = x.data<float>().ToArray();
            var counts = new int[4];
            for (int i = 0; i < 10_000; i++)
            {
                float a = v[2 * i], b = v[2 * i + 1];
                counts[Math.Abs(a) >= Math.Abs(b) ? (a >= 0 ? 0 : 1) : (b >= 0 ? 2 : 3)]++;
            }
            foreach (int count in counts) Assert.IsTrue(count is >= 1500 and <= 3500, $"mode shares {string.Join(", ", counts)}");
        }

        [TestMethod]
        public void SticksTheLandingWithLessGradientVarianceNearTheOptimum()
        {
            // x = W z, z ~ N(mu, diag): this flow holds every 2-D Gaussian, so it can reach the target exactly.
            using var scope = NewDisposeScope();
            (VariationalTarget target, _, _) = Targets.CorrelatedGaussian();
            using var q = new NormalizingFlow(new DiagonalGaussian(2), new FlowLayer[] { new LUInvertibleLinear(new[] { 0, 1 }) });
            VariationalInference.Fit(q, target.LogDensity, new Elbo(), new VariationalInferenceOptions { Iterations = 1500, SamplesPerStep = 256, LearningRate = 2e-2, Seed = 1 });
            double plain = GradientVariance(q, target, new Elbo(GradientEstimator.Reparameterization));
            double stl = GradientVariance(q, target, new Elbo(GradientEstimator.StickingTheLanding));
            Console.WriteLine($"gradient variance over 200 draws: reparameterization {plain:E3}, sticking the landing {stl:E3}");
            Assert.IsTrue(stl < plain / 10, $"STL variance {stl} is not well below the plain estimator's {plain}");
        }

        // The summed per-parameter variance of single-draw gradients over 200 draws.
        private static double GradientVariance(NormalizingFlow q, VariationalTarget target, IVariationalObjective objective)
        {
            var parameters = q.parameters().ToArray();
            var draws = new List<double[]>();
            using var generator = new Generator().manual_seed(7);
            for (int i = 0; i < 200; i++)
            {
                using var scope = NewDisposeScope();
                q.zero_grad();
                objective.Loss(q, target.LogDensity, 1, generator).Loss.backward();
                draws.Add(parameters.SelectMany(p => (p.grad ?? zeros_like(p)).to_type(ScalarType.Float64).data<double>().ToArray()).ToArray());
            }
            int n = draws[0].Length;
            double total = 0;
            for (int j = 0; j < n; j++)
            {
                double mean = draws.Average(g => g[j]);
                total += draws.Average(g => (g[j] - mean) * (g[j] - mean));
            }
            return total;
        }

        [TestMethod]
        public void ConstrainedParametersAreFittedOnTheirSupports()
        {
            // theta1 > 0 ~ Gamma(3, rate 2) (mean 1.5), theta2 in (0, 1) ~ Beta(2, 5) (mean 2/7).
            using var scope = NewDisposeScope();
            var space = new ConstrainedSpace(Constraint.Positive, Constraint.UnitInterval);
            Func<Tensor, Tensor> posterior = theta =>
                2 * theta[.., 0].log() - 2 * theta[.., 0] + theta[.., 1].log() + 4 * (1 - theta[.., 1]).log();
            double logZ = Math.Log(0.25) + Math.Log(1.0 / 30);
            using NormalizingFlow q = FlowFactory.Create(2, new FlowArchitecture { Preset = FlowPreset.NeuralSplineAutoregressive, NumberOfLayers = 3, HiddenUnits = 32, TailBound = 6 }, seed: 1);
            Func<Tensor, Tensor> unconstrained = space.Unconstrained(posterior);
            VariationalInference.Fit(q, unconstrained, new Elbo(GradientEstimator.StickingTheLanding), Budget(1500));
            VariationalReport report = VariationalDiagnostics.Evaluate(q, unconstrained, 10_000, seed: 5);
            Assert.AreEqual(logZ, report.Elbo, 0.05);
            Tensor theta;
            using (no_grad()) theta = space.ToConstrained(q.Sample(20_000, new Generator().manual_seed(6)));
            double[] means = theta.mean(new long[] { 0 }).to_type(ScalarType.Float64).data<double>().ToArray();
            Assert.AreEqual(1.5, means[0], 0.05);
            Assert.AreEqual(2.0 / 7, means[1], 0.02);
            Assert.IsTrue(theta[.., 0].gt(0).all().item<bool>() && theta[.., 1].gt(0).all().item<bool>() && theta[.., 1].lt(1).all().item<bool>());
        }

        [TestMethod]
        public void ParetoKReadsTheTailOfTheWeights()
        {
            var random = new Random(3);
            // Pareto weights with tail index 1 / 0.8: k-hat near 0.8. Log-normal weights of small spread: k-hat well below 0.5.
            double[] heavy = Enumerable.Range(0, 10_000).Select(_ => -0.8 * Math.Log(1 - random.NextDouble())).ToArray();
            double[] light = Enumerable.Range(0, 10_000).Select(_ => 0.1 * Synthetic.Normal(random)).ToArray();
            Assert.AreEqual(0.8, ParetoSmoothing.ParetoK(heavy), 0.15);
            Assert.IsTrue(ParetoSmoothing.ParetoK(light) < 0.3);
        }

        [TestMethod]
        public void InvalidOptionsNameTheOption()
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new VariationalInferenceOptions { Iterations = 0 }.Validate());
            Assert.AreEqual("Iterations", e.ParamName);
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new VariationalInferenceOptions { SamplesPerStep = 0 }.Validate());
            Assert.AreEqual("SamplesPerStep", e.ParamName);
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RenyiAlphaDivergence(1));
        }

        [TestMethod]
        public void VariationalStepsLeaveNoLiveTensorsBehind()
        {
            using var scope = NewDisposeScope();
            (VariationalTarget target, _, _) = Targets.CorrelatedGaussian();
            using NormalizingFlow q = FlowFactory.Create(2, new FlowArchitecture { Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 2, HiddenUnits = 8 }, seed: 1);
            foreach (IVariationalObjective objective in new IVariationalObjective[] { new Elbo(GradientEstimator.StickingTheLanding), new RenyiAlphaDivergence() })
            {
                var options = Budget(5);
                VariationalInference.Fit(q, target.LogDensity, objective, options); // warm-up: the frozen copy, caches
                long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                options.Iterations = 200;
                VariationalInference.Fit(q, target.LogDensity, objective, options);
                Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, $"{objective.Name}: live tensors grew over 200 steps");
            }
        }

        [TestMethod]
        public void StopWhenEndsTheFitEarly()
        {
            using var scope = NewDisposeScope();
            (VariationalTarget target, _, _) = Targets.CorrelatedGaussian();
            using NormalizingFlow q = FlowFactory.Create(2, new FlowArchitecture { Preset = FlowPreset.RealNvp, NumberOfLayers = 2, HiddenUnits = 8 }, seed: 1);
            var options = Budget(1000);
            options.ReportEvery = 50;
            options.StopWhen = p => p.Iteration >= 150;
            VariationalHistory history = VariationalInference.Fit(q, target.LogDensity, new RenyiAlphaDivergence(0.5), options);
            Assert.IsTrue(history.StoppedEarly);
            Assert.AreEqual(3, history.Reports.Count);
        }

        /// <summary>
        /// A Student-t q with no layers, whose only parameters are its degrees of freedom, fitted by sticking the landing
        /// to a Student-t target with 3: the path gradient through the draws must carry it from 10 to 3.
        /// </summary>
        [TestMethod]
        public void VariationalInferenceFitsStudentTDegreesOfFreedomThroughTheDraws()
        {
            using var scope = NewDisposeScope();
            const double targetNu = 3;
            double constant = LogGamma((targetNu + 1) / 2) - LogGamma(targetNu / 2) - 0.5 * Math.Log(targetNu * Math.PI);
            Tensor LogTarget(Tensor x) => (constant - (targetNu + 1) / 2 * (x.square() / targetNu).log1p()).sum(1);
            using var q = new NormalizingFlow(new StudentT(2, degreesOfFreedom: 10), Array.Empty<FlowLayer>());
            VariationalInference.Fit(q, LogTarget, new Elbo(GradientEstimator.StickingTheLanding),
                new VariationalInferenceOptions { Iterations = 600, SamplesPerStep = 256, LearningRate = 3e-2, Seed = 4, NumberOfThreads = 1 });
            foreach (double nu in ((StudentT)q.BaseDistribution).DegreesOfFreedom)
                Assert.AreEqual(targetNu, nu, 0.6, $"degrees of freedom {nu} (started at 10, target {targetNu})");
        }

        private static double LogGamma(double x)
        {
            using var scope = NewDisposeScope();
            return tensor(x, ScalarType.Float64).lgamma().item<double>();
        }
    }
}
