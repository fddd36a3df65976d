using TorchSharp;
using Microsoft.ML.NormalizingFlows.Layers;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    [TestClass]
    public sealed class NormalizingFlowTests
    {
        private static NormalizingFlow RandomFlow(int d, ScalarType type = ScalarType.Float32)
        {
            NormalizingFlow flow = FlowFactory.RealNvp(d, 4, 16, 2, 3.0, randomPermutations: true, seed: 5,
                new Standardization(Enumerable.Range(0, d).Select(j => 10.0 * j).ToArray(), Enumerable.Range(0, d).Select(j => 1.0 + j).ToArray()), type);
            using var noGrad = no_grad();
            foreach (var p in flow.parameters()) p.copy_(randn_like(p) * 0.1);
            return flow;
        }

        [TestMethod]
        public void TheLatentOfASampleIsTheNoiseItCameFrom()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = RandomFlow(3);
            Tensor noise = randn(500, 3, generator: new Generator().manual_seed(1));
            (Tensor samples, Tensor logDensity) = flow.FromLatent(noise);
            Tensor latent = flow.ToLatent(samples);
            Assert.IsTrue((latent - noise).abs().max().item<float>() <= 1e-4);
            Assert.IsTrue((flow.LogDensity(samples) - logDensity).abs().max().item<float>() <= 1e-3);
        }

        [TestMethod]
        public void SamplingIsReproducibleWithAGeneratorAndScoresItsOwnSamples()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = RandomFlow(2);
            (Tensor a, Tensor logA) = flow.SampleWithLogDensity(100, new Generator().manual_seed(9));
            Tensor b = flow.Sample(100, new Generator().manual_seed(9));
            Assert.AreEqual(0f, (a - b).abs().max().item<float>());
            CollectionAssert.AreEqual(new long[] { 100, 2 }, a.shape);
            Assert.IsTrue((flow.LogDensity(a) - logA).abs().max().item<float>() <= 1e-3);
        }

        [TestMethod]
        public void Float64FlowsWorkAndRejectFloat32Input()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = RandomFlow(2, ScalarType.Float64);
            Assert.AreEqual(ScalarType.Float64, flow.ElementType);
            Assert.AreEqual(ScalarType.Float64, flow.Sample(5).dtype);
            var e = Assert.ThrowsExactly<ArgumentException>(() => flow.LogDensity(randn(4, 2)));
            StringAssert.Contains(e.Message, "Float64");
        }

        [TestMethod]
        public void TheElementTypeFollowsConversionsOfTheFlowAndOfAModuleHoldingIt()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = RandomFlow(2);
            Assert.AreEqual(ScalarType.Float32, flow.LogDensity(randn(3, 2)).dtype);
            flow.to(ScalarType.Float64);
            Assert.AreEqual(ScalarType.Float64, flow.ElementType);
            Assert.AreEqual(ScalarType.Float64, flow.LogDensity(randn(3, 2, dtype: ScalarType.Float64)).dtype);
            using var conditional = new ConditionalNormalizingFlow(RandomFlow(2), contextDimension: 1);
            Assert.AreEqual(ScalarType.Float32, conditional.Flow.ElementType);
            conditional.to(ScalarType.Float64);
            Assert.AreEqual(ScalarType.Float64, conditional.Flow.ElementType, "converting the module that holds the flow converts it too");
            Assert.AreEqual(ScalarType.Float64, conditional.LogDensity(randn(3, 2, dtype: ScalarType.Float64), ones(3, 1, dtype: ScalarType.Float64)).dtype);
        }

        [TestMethod]
        public void RowsOfTheWrongWidthAreRejectedWithTheExpectedShape()
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = RandomFlow(3);
            var e = Assert.ThrowsExactly<ArgumentException>(() => flow.LogDensity(randn(4, 2)));
            StringAssert.Contains(e.Message, "[N, 3]");
            StringAssert.Contains(e.Message, "[4, 2]");
        }

        [TestMethod]
        public void LayersOfAnotherDimensionAreRejected()
        {
            var e = Assert.ThrowsExactly<ArgumentException>(() => new NormalizingFlow(
                new Distributions.StandardNormal(3), new FlowLayer[] { Permutation.Reverse(2) }));
            StringAssert.Contains(e.Message, "dimension 2");
        }

        [TestMethod]
        public void StandardizationCountsItsJacobianInTheDataUnits()
        {
            // With only a standardization, the flow is N(mean, diag(scale^2)): check against the closed form.
            using var scope = NewDisposeScope();
            var flow = new NormalizingFlow(new Distributions.StandardNormal(2),
                new FlowLayer[] { new Standardization(new[] { 1.0, -3.0 }, new[] { 0.5, 20.0 }) });
            float[] x = { 1.2f, 10f };
            double expected = 0;
            double[] mean = { 1.0, -3.0 }, sd = { 0.5, 20.0 };
            for (int j = 0; j < 2; j++)
                expected += -0.5 * Math.Pow((x[j] - mean[j]) / sd[j], 2) - Math.Log(sd[j]) - 0.5 * Math.Log(2 * Math.PI);
            double actual = flow.LogDensity(tensor(x, new long[] { 1, 2 })).item<float>();
            Assert.AreEqual(expected, actual, 1e-5);
        }
    }
}
