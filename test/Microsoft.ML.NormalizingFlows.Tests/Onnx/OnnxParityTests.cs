using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Tests.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>ONNX Runtime against TorchSharp on the same weights, for every exportable layer and a composed flow.</summary>
    [TestClass]
    public sealed class OnnxParityTests
    {
        public static IEnumerable<object[]> Layers() => TestLayers.All().Where(row => !((string)row[0]).StartsWith("ElementwiseAffine"));

        public static IEnumerable<object[]> DensityLayers() => Layers().Where(row => !TestLayers.SamplingOnly((string)row[0]));

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
        [DynamicData(nameof(DensityLayers))]
        public void DensityGraphMatchesTorchSharpIncludingFarTails(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x = Inputs(flow, 400);
            (float[] logDensity, float[] latent) = Density(flow, x);
            var outputs = OrtRunner.Run(FlowOnnx.ExportDensity(flow), FlowOnnx.FeaturesName, x.data<float>().ToArray(), 400, d);
            // Far out, a conditioner can give steep spline bins, where float32 itself is good to 1e-3 only: there ONNX
            // Runtime must be about as close to the float64 result as TorchSharp's float32 is.
            flow.to(ScalarType.Float64);
            (double[] logDensity64, double[] latent64) = Density64(flow, x);
            AssertClose(name + " log-density", logDensity, outputs[FlowOnnx.LogDensityName], logDensity64);
            AssertClose(name + " latent", latent, outputs[FlowOnnx.LatentName], latent64);
        }

        private static (float[] LogDensity, float[] Latent) Density(NormalizingFlow flow, Tensor x)
        {
            using var noGrad = no_grad();
            (Tensor latent, Tensor logDet) = flow.ToLatentWithLogDet(x);
            return ((flow.BaseDistribution.LogProb(latent) + logDet).data<float>().ToArray(), latent.data<float>().ToArray());
        }

        private static (double[] LogDensity, double[] Latent) Density64(NormalizingFlow flow, Tensor x)
        {
            using var noGrad = no_grad();
            (Tensor latent, Tensor logDet) = flow.ToLatentWithLogDet(x.to_type(ScalarType.Float64));
            return ((flow.BaseDistribution.LogProb(latent) + logDet).data<double>().ToArray(), latent.data<double>().ToArray());
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
        public void EveryLayersGraphsPassTheOnnxChecker()
        {
            if (!OnnxChecker.Available)
                Assert.Inconclusive("The ONNX checker (Debian package python3-onnx) is not installed; .ci/run installs it.");
            foreach (object[] row in Layers().Where(r => (int)r[1] == 3))
            {
                string name = (string)row[0];
                using var scope = NewDisposeScope();
                using FlowLayer layer = TestLayers.Create(name, 3);
                NormalizingFlow flow = AsFlow(layer);
                if (!TestLayers.SamplingOnly(name)) Assert.IsNull(OnnxChecker.Check(FlowOnnx.ExportDensity(flow)), name + " density graph");
                Assert.IsNull(OnnxChecker.Check(FlowOnnx.ExportSampling(flow)), name + " sampling graph");
            }
        }

        [TestMethod]
        public void ALayerWithoutAnInverseExportsOnlyTheSamplingGraph()
        {
            using var scope = NewDisposeScope();
            using var flow = new NormalizingFlow(new StandardNormal(2), new FlowLayer[] { new Layers.PlanarLayer(2) });
            var e = Assert.ThrowsExactly<NotSupportedException>(() => FlowOnnx.ExportDensity(flow));
            StringAssert.Contains(e.Message, "only the sampling graph");
            Assert.IsTrue(FlowOnnx.ExportSampling(flow).Length > 0);
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

        /// <summary>
        /// |a - b| &lt;= 1e-4, or relative 1e-5 where values are large; with a float64 reference, also allowed: as close
        /// to it as <paramref name="expected"/> (TorchSharp float32) is, times 10 (two float32 implementations summing in
        /// different orders).
        /// </summary>
        internal static void AssertClose(string what, float[] expected, float[] actual, double[]? reference = null)
        {
            Assert.AreEqual(expected.Length, actual.Length, what + ": lengths");
            double worst = 0;
            int worstIndex = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double tolerance = Math.Max(1e-4, 1e-5 * Math.Abs(expected[i]));
                double excess = Math.Abs(expected[i] - actual[i]) - tolerance;
                if (reference is not null)
                    excess = Math.Min(excess, Math.Abs(actual[i] - reference[i]) - Math.Max(tolerance, 10 * Math.Abs(expected[i] - reference[i])));
                if (excess > worst) (worst, worstIndex) = (excess, i);
            }
            Assert.AreEqual(0, worst, $"{what}: element {worstIndex} expected {expected[worstIndex]} got {actual[worstIndex]}" +
                (reference is null ? "" : $", float64 {reference[worstIndex]}"));
        }
    }
}
