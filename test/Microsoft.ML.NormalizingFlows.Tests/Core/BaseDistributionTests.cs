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
        public void StudentTDegreesOfFreedomAreTrainable()
        {
            using var scope = NewDisposeScope();
            using var t = new StudentT(2, degreesOfFreedom: 30);
            Tensor heavy = t.Sample(10, ScalarType.Float32, CPU); // any rows; the gradient must reach nu
            (-t.LogProb(randn(256, 2) * 5).mean()).backward();
            Assert.IsTrue(t.parameters().All(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0));
            CollectionAssert.AreEqual(new long[] { 10, 2 }, heavy.shape);
        }
    }
}
