using TorchSharp;
using Microsoft.ML.NormalizingFlows.Distributions;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    [TestClass]
    public sealed class BaseDistributionTests
    {
        private static double Integral1D(BaseDistribution distribution, double limit, int points)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            double h = 2 * limit / points;
            Tensor z = (arange(points, dtype: ScalarType.Float64) + 0.5) * h - limit;
            return distribution.LogProb(z.unsqueeze(1)).exp().sum().item<double>() * h;
        }

        [TestMethod]
        public void DiagonalGaussianIsNormalizedAndSamplesItsMoments()
        {
            using var scope = NewDisposeScope();
            using var gaussian = new DiagonalGaussian(1);
            using (no_grad()) foreach (var p in gaussian.parameters()) p.fill_(0.7); // mean 0.7, scale exp(0.7)
            gaussian.to(ScalarType.Float64);
            Assert.AreEqual(1.0, Integral1D(gaussian, 40, 400_000), 1e-6);
            Tensor samples = gaussian.Sample(50_000, ScalarType.Float64, CPU, new Generator().manual_seed(1));
            Assert.AreEqual(0.7, samples.mean().item<double>(), 0.03);
            Assert.AreEqual(Math.Exp(0.7), samples.std().item<double>(), 0.03);
        }

        [TestMethod]
        public void GaussianMixtureIsNormalizedOnAGridAndSamplesItsMoments()
        {
            using var scope = NewDisposeScope();
            using var mixture = new GaussianMixture(2, components: 3, seed: 4);
            mixture.to(ScalarType.Float64);
            using (no_grad())
            {
                foreach ((string name, Tensor p) in mixture.named_parameters())
                    p.copy_(name switch
                    {
                        "logits" => tensor(new[] { 0.5, -0.3, 0.1 }),
                        "means" => tensor(new[] { -2, 0, 1.5, 1, 0.5, -2.5 }, new long[] { 3, 2 }),
                        _ => tensor(new[] { -0.4, 0.2, 0.1, -0.6, 0.3, 0 }, new long[] { 3, 2 }),
                    });
            }
            double[] w = mixture.Weights;
            double[,] mu = { { -2, 0 }, { 1.5, 1 }, { 0.5, -2.5 } };
            double[,] sigma = { { Math.Exp(-0.4), Math.Exp(0.2) }, { Math.Exp(0.1), Math.Exp(-0.6) }, { Math.Exp(0.3), 1 } };

            // Midpoint rule on [-12, 12]^2, 1200^2 cells.
            const int points = 1200;
            const double limit = 12, h = 2 * limit / points;
            Tensor axis = (arange(points, dtype: ScalarType.Float64) + 0.5) * h - limit;
            Tensor[] grid = meshgrid(new[] { axis, axis }, indexing: "ij");
            Tensor rows = stack(new[] { grid[0].flatten(), grid[1].flatten() }, 1);
            double integral;
            using (no_grad()) integral = mixture.LogProb(rows).exp().sum().item<double>() * h * h;
            Assert.AreEqual(1.0, integral, 1e-6, "integral over the plane");

            // Against the log-density written out by hand at a few points.
            double[][] probes = { new[] { 0.3, -0.7 }, new[] { -2.1, 0.4 }, new[] { 4.0, 3.0 } };
            double[] expected = probes.Select(z => Math.Log(Enumerable.Range(0, 3).Sum(k => w[k] * Enumerable.Range(0, 2).Aggregate(1.0, (product, j) =>
                product * Math.Exp(-0.5 * Math.Pow((z[j] - mu[k, j]) / sigma[k, j], 2)) / (sigma[k, j] * Math.Sqrt(2 * Math.PI)))))).ToArray();
            double[] actual;
            using (no_grad()) actual = mixture.LogProb(tensor(probes.SelectMany(p => p).ToArray(), new long[] { 3, 2 })).data<double>().ToArray();
            for (int i = 0; i < 3; i++) Assert.AreEqual(expected[i], actual[i], 1e-12, $"log-density at probe {i}");

            Tensor samples = mixture.Sample(200_000, ScalarType.Float64, CPU, new Generator().manual_seed(5));
            double[] mean = samples.mean(new long[] { 0 }).data<double>().ToArray();
            double[] variance = samples.var(0).data<double>().ToArray();
            for (int j = 0; j < 2; j++)
            {
                double m = Enumerable.Range(0, 3).Sum(k => w[k] * mu[k, j]);
                double v = Enumerable.Range(0, 3).Sum(k => w[k] * (sigma[k, j] * sigma[k, j] + mu[k, j] * mu[k, j])) - m * m;
                Assert.AreEqual(m, mean[j], 0.02, $"mean of feature {j}");
                Assert.AreEqual(v, variance[j], 0.03 * v, $"variance of feature {j}");
            }
        }

        [TestMethod]
        public void GaussianMixtureStartsAtSeededKMeansOfTheLatents()
        {
            using var scope = NewDisposeScope();
            var random = new Random(6);
            double[][] centers = { new[] { -4.0, 0 }, new[] { 3.0, 3 }, new[] { 3.0, -3 } };
            double[] shares = { 0.5, 0.3, 0.2 };
            var values = new List<float>();
            for (int i = 0; i < 3000; i++)
            {
                int k = i < 1500 ? 0 : i < 2400 ? 1 : 2;
                values.Add((float)(centers[k][0] + 0.5 * Synthetic.Normal(random)));
                values.Add((float)(centers[k][1] + 0.5 * Synthetic.Normal(random)));
            }
            Tensor latent = tensor(values.ToArray(), new long[] { 3000, 2 });
            double[] Fitted(int seed, out double[] weights, out double[] means)
            {
                using var mixture = new GaussianMixture(2, components: 3);
                mixture.InitializeFrom(latent, seed);
                weights = mixture.Weights;
                means = mixture.named_parameters().Single(p => p.name == "means").parameter.detach().data<float>().Select(v => (double)v).ToArray();
                using var noGrad = no_grad();
                return mixture.LogProb(latent).data<float>().Select(v => (double)v).ToArray();
            }
            double[] first = Fitted(7, out double[] weights, out double[] means);
            for (int k = 0; k < 3; k++)
            {
                int c = Enumerable.Range(0, 3).MinBy(j => Math.Pow(means[2 * j] - centers[k][0], 2) + Math.Pow(means[2 * j + 1] - centers[k][1], 2));
                Assert.AreEqual(centers[k][0], means[2 * c], 0.05, $"cluster {k} mean x");
                Assert.AreEqual(centers[k][1], means[2 * c + 1], 0.05, $"cluster {k} mean y");
                Assert.AreEqual(shares[k], weights[c], 0.01, $"cluster {k} weight");
            }
            CollectionAssert.AreEqual(first, Fitted(7, out _, out _), "a seed gives the same start");
        }

        [TestMethod]
        public void StudentTIsNormalizedAndSamplesItsTails()
        {
            using var scope = NewDisposeScope();
            using var t = new StudentT(1, degreesOfFreedom: 3);
            t.to(ScalarType.Float64);
            // Heavy tails: the mass beyond |z| = 2000 is about 1e-10 for 3 degrees of freedom.
            Assert.AreEqual(1.0, Integral1D(t, 2000, 4_000_000), 1e-5);
            Tensor samples = t.Sample(40_000, ScalarType.Float64, CPU, new Generator().manual_seed(2));
            // P(|T| > 3.182) = 0.05 for 3 degrees of freedom.
            double tail = samples.abs().gt(3.182).to_type(ScalarType.Float64).mean().item<double>();
            Assert.AreEqual(0.05, tail, 0.006);
        }

        [TestMethod]
        public void StudentTLogDensityGivesTheDegreesOfFreedomAGradient()
        {
            using var scope = NewDisposeScope();
            using var t = new StudentT(2, degreesOfFreedom: 30);
            (-t.LogProb(randn(256, 2, generator: new Generator().manual_seed(3)) * 5).mean()).backward();
            Assert.IsTrue(t.parameters().All(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0));
        }

        /// <summary>
        /// The path gradient of E|T| through reparameterized draws matches the derivative of the closed form
        /// <c>E|T| = 2 sqrt(nu) Gamma((nu + 1) / 2) / (sqrt(pi) (nu - 1) Gamma(nu / 2))</c> in <c>log nu</c>, within four
        /// standard errors of the Monte Carlo estimate (from the spread over 20 independent batches).
        /// </summary>
        [TestMethod]
        public void StudentTDrawsCarryThePathGradientOfTheDegreesOfFreedom()
        {
            using var scope = NewDisposeScope();
            const double nu = 4;
            using var t = new StudentT(1, degreesOfFreedom: nu);
            t.to(ScalarType.Float64);
            var generator = new Generator().manual_seed(11);
            var gradients = new List<double>();
            for (int batch = 0; batch < 20; batch++)
            {
                t.zero_grad();
                t.Sample(20_000, ScalarType.Float64, CPU, generator).abs().mean().backward();
                gradients.Add(t.parameters().Single().grad!.item<double>());
            }
            double mean = gradients.Average();
            double standardError = Math.Sqrt(gradients.Sum(g => (g - mean) * (g - mean)) / (gradients.Count - 1) / gradients.Count);
            double h = 1e-5;
            double expected = (MeanAbsolute(nu * Math.Exp(h)) - MeanAbsolute(nu * Math.Exp(-h))) / (2 * h);
            Assert.IsTrue(standardError < 0.1 * Math.Abs(expected), $"the estimate is too noisy to judge: standard error {standardError}, derivative {expected}");
            Assert.AreEqual(expected, mean, 4 * standardError, $"path gradient {mean} +- {standardError}, closed form {expected}");
        }

        private static double MeanAbsolute(double nu)
        {
            using var scope = NewDisposeScope();
            Tensor n = tensor(nu, ScalarType.Float64);
            return (2 * n.sqrt() * ((n + 1) / 2).lgamma().exp() / (Math.Sqrt(Math.PI) * (n - 1) * (n / 2).lgamma().exp())).item<double>();
        }
    }
}
