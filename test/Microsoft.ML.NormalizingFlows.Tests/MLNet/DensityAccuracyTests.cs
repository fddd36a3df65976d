using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>Known-answer checks of fitted densities.</summary>
    [TestClass]
    public sealed class DensityAccuracyTests
    {
        [TestMethod]
        public void TwoMoonsDensityIntegratesToOneOnAGrid()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Rows.ToDataView(ml, Synthetic.TwoMoons(2000, 0.1, seed: 1), 2);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                NumberOfLayers = 6, HiddenUnits = 64, MaxEpochs = 60, BatchSize = 128, LearningRate = 3e-3, Seed = 1,
                NumberOfThreads = 1,
            }).Fit(data);
            // The best possible is about -0.95 nats: log(arc length 2 pi) + the entropy of N(0, 0.1^2) across the arcs.
            Assert.IsTrue(model.TrainingHistory.BestValidationLogLikelihood > -1.2,
                $"the flow did not learn the moons: validation log-likelihood {model.TrainingHistory.BestValidationLogLikelihood}");

            // Midpoint rule on [-3, 4] x [-2.5, 3] (the data spans about [-1.2, 2.2] x [-0.7, 1.2]).
            const int n = 700;
            double x0 = -3, x1 = 4, y0 = -2.5, y1 = 3;
            double hx = (x1 - x0) / n, hy = (y1 - y0) / n;
            var grid = new float[n * n * 2];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    grid[2 * (i * n + j)] = (float)(x0 + (i + 0.5) * hx);
                    grid[2 * (i * n + j) + 1] = (float)(y0 + (j + 0.5) * hy);
                }
            using NormalizingFlow flow = model.CopyFlow();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor density = flow.LogDensity(tensor(grid, new long[] { n * n, 2 })).to_type(ScalarType.Float64).exp();
            double integral = density.sum().item<double>() * hx * hy;
            Console.WriteLine($"two moons: integral {integral:F5}, validation log-likelihood {model.TrainingHistory.BestValidationLogLikelihood:F4}");
            Assert.AreEqual(1.0, integral, 0.01, $"integral of the fitted density = {integral}");
        }

        [TestMethod]
        public void CorrelatedGaussianHeldOutLikelihoodMatchesTheTrueDensity()
        {
            // Non-zero mean, scales from 0.02 to 300, strong correlations.
            var truth = new Synthetic.Gaussian(
                new[] { 5.0, -200.0, 0.3, 1000.0 },
                new[,]
                {
                    { 0.02, 0, 0, 0 },
                    { 8.0, 6.0, 0, 0 },
                    { -0.5, 0.2, 0.6, 0 },
                    { 150.0, -100.0, 50.0, 200.0 },
                });
            var ml = new MLContext(seed: 0);
            float[] train = truth.Sample(8000, seed: 11);
            float[] heldOut = truth.Sample(4000, seed: 12);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                NumberOfLayers = 4, HiddenUnits = 32, MaxEpochs = 40, BatchSize = 256, LearningRate = 2e-3, Seed = 3,
                NumberOfThreads = 1,
            }).Fit(Rows.ToDataView(ml, train, 4));

            float[] fitted = Rows.LogDensities(model.Transform(Rows.ToDataView(ml, heldOut, 4)));
            double flowMean = fitted.Average(v => (double)v);
            double trueMean = Enumerable.Range(0, 4000).Average(i => truth.LogDensity(heldOut.AsSpan(i * 4, 4)));
            Console.WriteLine($"4-D Gaussian: held-out mean log-likelihood flow {flowMean:F4}, truth {trueMean:F4}");
            Assert.AreEqual(trueMean, flowMean, 0.05, $"held-out mean log-likelihood: flow {flowMean:F4}, truth {trueMean:F4}");
        }
    }
}
