using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Tests.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>ONNX Runtime against TorchSharp on the same weights, for every exportable layer and a composed flow.</summary>
    [TestClass]
    public sealed class OnnxParityTests
    {
        public static IEnumerable<object[]> Layers() => TestLayers.All().Where(row => !((string)row[0]).StartsWith("ElementwiseAffine"));

        private static NormalizingFlow AsFlow(FlowLayer layer) =>
            layer is TestLayers.FlowAsLayer whole ? whole.Flow : new NormalizingFlow(new StandardNormal(layer.Dimension), new[] { layer });

        /// <summary>Rows around the data's scale plus far tails: a quarter of the rows at up to 50 standard deviations.</summary>
        private static Tensor Inputs(NormalizingFlow flow, int rows)
        {
            using var noGrad = no_grad();
            Tensor z = randn(rows, flow.Dimension, generator: new Generator().manual_seed(4));
            Tensor far = z.narrow(0, 0, rows / 4);
            far.copy_(far / far.abs().max(1, keepdim: true).values * 50);
            (Tensor x, _) = flow.FromLatent(z);
            return x;
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void DensityGraphMatchesTorchSharpIncludingFarTails(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x = Inputs(flow, 400);
            Tensor expectedLogDensity, expectedLatent;
            using (no_grad())
            {
                (expectedLatent, Tensor logDet) = flow.ToLatentWithLogDet(x);
                expectedLogDensity = flow.BaseDistribution.LogProb(expectedLatent) + logDet;
            }
            var outputs = OrtRunner.Run(FlowOnnx.ExportDensity(flow), FlowOnnx.FeaturesName, x.data<float>().ToArray(), 400, d);
            AssertClose(name + " log-density", expectedLogDensity.data<float>().ToArray(), outputs[FlowOnnx.LogDensityName]);
            AssertClose(name + " latent", expectedLatent.data<float>().ToArray(), outputs[FlowOnnx.LatentName]);
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void SamplingGraphMatchesTorchSharpWithTheSameNoise(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor noise = randn(400, d, generator: new Generator().manual_seed(5));
            Tensor samples, logDensity;
            using (no_grad()) (samples, logDensity) = flow.FromLatent(noise);
            var outputs = OrtRunner.Run(FlowOnnx.ExportSampling(flow), FlowOnnx.NoiseName, noise.data<float>().ToArray(), 400, d);
            AssertClose(name + " samples", samples.data<float>().ToArray(), outputs[FlowOnnx.SamplesName]);
            AssertClose(name + " sample log-density", logDensity.data<float>().ToArray(), outputs[FlowOnnx.LogDensityName]);
        }

        [TestMethod]
        public void ALayerWithoutAnExportSaysWhichLayer()
        {
            using var scope = NewDisposeScope();
            using var flow = new NormalizingFlow(new StandardNormal(2), new FlowLayer[] { new Layers.Standardization(new[] { 0.0, 0 }, new[] { 1.0, 1 }), new ElementwiseAffine(2) });
            var e = Assert.ThrowsExactly<NotSupportedException>(() => FlowOnnx.ExportDensity(flow));
            StringAssert.Contains(e.Message, "Layer 1 (ElementwiseAffine)");
            StringAssert.Contains(e.Message, "IOnnxExportableLayer");
        }

        /// <summary>|a - b| &lt;= 1e-4, or relative 1e-5 where values are large.</summary>
        internal static void AssertClose(string what, float[] expected, float[] actual)
        {
            Assert.AreEqual(expected.Length, actual.Length, what + ": lengths");
            double worst = 0;
            int worstIndex = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double excess = Math.Abs(expected[i] - actual[i]) - Math.Max(1e-4, 1e-5 * Math.Abs(expected[i]));
                if (excess > worst) (worst, worstIndex) = (excess, i);
            }
            Assert.AreEqual(0, worst, $"{what}: element {worstIndex} expected {expected[worstIndex]} got {actual[worstIndex]}");
        }
    }
}
