using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    [TestClass]
    public sealed class ConditionalNormalizingFlowTests
    {
        // Two classes on a line: class 0 ~ N(-2, 0.5), class 1 ~ N(3, 1.5); one-hot contexts.
        private static (Tensor Data, Tensor Context) Rows(int count, int seed)
        {
            var random = new Random(seed);
            var data = new float[count];
            var context = new float[count * 2];
            for (int i = 0; i < count; i++)
            {
                int c = i % 2;
                data[i] = (float)(c == 0 ? -2 + 0.5 * Synthetic.Normal(random) : 3 + 1.5 * Synthetic.Normal(random));
                context[2 * i + c] = 1;
            }
            return (tensor(data, new long[] { count, 1 }), tensor(context, new long[] { count, 2 }));
        }

        [TestMethod]
        public void TrainedConditionalDensityIntegratesToOneAndRecoversEachClass()
        {
            using var scope = NewDisposeScope();
            NormalizingFlow flow = FlowFactory.Create(1, new FlowArchitecture { Preset = FlowPreset.NeuralSplineAutoregressive, NumberOfLayers = 2, HiddenUnits = 16 },
                seed: 1, new Standardization(new[] { 0.5 }, new[] { 2.7 }), ScalarType.Float32);
            using var model = new ConditionalNormalizingFlow(flow, contextDimension: 2);
            (Tensor data, Tensor context) = Rows(2000, seed: 2);
            MaximumLikelihoodTrainer.Fit(model, data, context, null, null, new MaximumLikelihoodOptions { MaxEpochs = 40, BatchSize = 100, LearningRate = 5e-3, Seed = 3 });

            using var noGrad = no_grad();
            Tensor grid = linspace(-12, 16, 14001).reshape(-1, 1);
            foreach ((int c, double mean, double sd) in new[] { (0, -2.0, 0.5), (1, 3.0, 1.5) })
            {
                Tensor oneHot = zeros(14001, 2);
                oneHot[.., c] = 1;
                double integral = trapezoid(model.LogDensity(grid, oneHot).exp(), dx: 28.0 / 14000).item<float>();
                Assert.AreEqual(1.0, integral, 0.01, $"integral of p(x | class {c})");

                Tensor draws = model.Sample(zeros(4000, 2).index_put_(ones(4000), new TensorIndex[] { TensorIndex.Colon, TensorIndex.Single(c) }), new Generator().manual_seed(4));
                Assert.AreEqual(mean, draws.mean().item<float>(), 0.1 * sd, $"mean of class {c} draws");
                Assert.AreEqual(sd, draws.std().item<float>(), 0.1 * sd, $"spread of class {c} draws");
            }
        }

        [TestMethod]
        public void LogDensityIsTheFlowsWithTheConditionalGaussianInPlaceOfTheStandardNormal()
        {
            using var scope = NewDisposeScope();
            NormalizingFlow flow = FlowFactory.Create(3, new FlowArchitecture { Preset = FlowPreset.RealNvp, NumberOfLayers = 2, HiddenUnits = 8 },
                seed: 5, new Standardization(new double[3], new[] { 1.0, 2.0, 0.5 }), ScalarType.Float32);
            using var model = new ConditionalNormalizingFlow(flow, contextDimension: 2);
            Tensor x = randn(50, 3, generator: new Generator().manual_seed(6));
            Tensor c = randn(50, 2, generator: new Generator().manual_seed(7));
            model.InitializeMeans(x, c);
            using var noGrad = no_grad();
            (Tensor z, Tensor logDet) = flow.ToLatentWithLogDet(x);
            (Tensor mu, Tensor s) = model.LatentGaussian(c);
            Tensor expected = (-0.5 * ((z - mu) / s.exp()).square() - s - 0.5 * Math.Log(2 * Math.PI)).sum(1) + logDet;
            Assert.IsTrue(allclose(expected, model.LogDensity(x, c), rtol: 1e-5, atol: 1e-5));
            Assert.IsTrue(mu.abs().sum().item<float>() > 0, "InitializeMeans moved the means off zero");
            Assert.ThrowsExactly<ArgumentException>(() => model.LogDensity(x, randn(50, 3)));
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Sample(c, temperature: 0));
        }
    }
}
