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
        public static IEnumerable<object[]> Layers() => TestLayers.All().Where(row => !((string)row[0]).StartsWith("ElementwiseAffine") && !TestLayers.Conditional((string)row[0]));

        public static IEnumerable<object[]> ConditionalLayers() => TestLayers.All().Where(row => TestLayers.Conditional((string)row[0]));

        public static IEnumerable<object[]> DensityLayers() => Layers().Where(row => !TestLayers.SamplingOnly((string)row[0]));

        public static IEnumerable<object[]> SingleDensityLayers() => DensityLayers().Where(row =>
            !((string)row[0]).StartsWith("Preset") && !((string)row[0]).StartsWith("Base"));

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

        /// <summary>Layers and whole flows written over IFlowOps: the float64 graph is their float64 math, far tails included.</summary>
        public static IEnumerable<object[]> Float64Layers() => DensityLayers().Where(row =>
            !((string)row[0]).StartsWith("Base StudentT"));

        [TestMethod]
        [DynamicData(nameof(Float64Layers))]
        public void Float64GraphMatchesTorchSharpFloat64IncludingFarTails(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x = Inputs(flow, 400);
            flow.to(ScalarType.Float64);
            Tensor x64 = x.to_type(ScalarType.Float64);
            (double[] logDensity, double[] latent) = Density<double>(flow, x64);
            // Unoptimized: the graph as written, so this checks the exported math itself (ONNX Runtime's fusions round differently).
            var outputs = OrtRunner.Run(FlowOnnx.ExportDensityFloat64(flow), FlowOnnx.FeaturesName, x64.data<double>().ToArray(), 400, d, optimized: false);
            AssertClose64(name + " log-density", logDensity, outputs[FlowOnnx.LogDensityName]);
            AssertClose64(name + " latent", latent, outputs[FlowOnnx.LatentName]);
        }

        [TestMethod]
        [DynamicData(nameof(DensityLayers))]
        public void Float32GraphMatchesTorchSharpOnDataScaleRows(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x;
            using (no_grad()) x = flow.FromLatent(randn(400, d, generator: new Generator().manual_seed(4))).Samples;
            AssertDensityParity(name, flow, x);
        }

        /// <summary>
        /// Far tails (a quarter of the rows at up to 50 standard deviations) in float32. There a conditioner reading a
        /// far value gives bins of nearly the minimum width (2B/1000), whose slopes reach about 1000: one rounding of a
        /// knot (about 1e-6 at B = 3) moves the output by about 1e-3 in either float32 implementation (TorchSharp's own
        /// float32 result is that far from float64 too). The bound on those rows is therefore 5e-3 for latents (plus
        /// 1e-5 relative) and 5e-3 (1 + |z|) for log-densities, and the strict float32 bound on the others; the float64
        /// graph test covers the far tails to 1e-9. Single layers only: through a whole flow, each further steep bin
        /// multiplies such a rounding again (measured: 0.08 in a latent of a 3-layer spline preset at d = 2), so whole
        /// flows are compared strictly at data scale and in float64 in the far tails.
        /// </summary>
        [TestMethod]
        [DynamicData(nameof(SingleDensityLayers))]
        public void Float32GraphStaysWithinFloat32ConditioningInTheFarTails(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x = Inputs(flow, 400);
            (float[] logDensity, float[] latent) = Density<float>(flow, x);
            var outputs = OrtRunner.Run(FlowOnnx.ExportDensity(flow), FlowOnnx.FeaturesName, x.data<float>().ToArray(), 400, d);
            int farRows = 100;
            // log p = log p_base(z) + ...: an error dz in a far latent moves -z^2/2 by |z| dz, |z| about sqrt(2 |log p|).
            float[] far = outputs[FlowOnnx.LogDensityName][..farRows];
            for (int i = 0; i < farRows; i++)
            {
                double bound = 5e-3 * (1 + Math.Sqrt(2 * Math.Abs(logDensity[i])));
                Assert.IsTrue(Math.Abs(logDensity[i] - far[i]) <= bound, $"{name} far log-density {i}: TorchSharp {logDensity[i]}, ONNX Runtime {far[i]}, bound {bound}");
            }
            AssertClose(name + " far latent", latent[..(farRows * d)], outputs[FlowOnnx.LatentName][..(farRows * d)], 5e-3);
            AssertClose(name + " log-density", logDensity[farRows..], outputs[FlowOnnx.LogDensityName][farRows..]);
            AssertClose(name + " latent", latent[(farRows * d)..], outputs[FlowOnnx.LatentName][(farRows * d)..]);
        }

        [TestMethod]
        [DataRow("SplineCoupling even", 6)]
        [DataRow("SplineCoupling odd", 3)]
        [DataRow("SplineAutoregressive", 6)]
        public void SteepSplineBinsMatchTorchSharpAtTheLayerLevel(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            using (no_grad())
                foreach (var p in layer.parameters()) p.add_(randn(p.shape, generator: new Generator().manual_seed(8)) * 1.0);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x = randn(400, d, generator: new Generator().manual_seed(9)) * 2;
            Tensor logDerivative;
            using (no_grad()) logDerivative = layer.Forward(x).LogAbsDetJacobian;
            // Steep indeed: some rows change volume by a factor above e^4 (slopes of 50 and more in a bin).
            Assert.IsTrue(logDerivative.abs().max().item<float>() > 4, $"{name}: the perturbed layer is not steep ({logDerivative.abs().max().item<float>()})");
            AssertDensityParity(name + " steep", flow, x);
        }

        private static void AssertDensityParity(string what, NormalizingFlow flow, Tensor x)
        {
            int d = flow.Dimension;
            (float[] logDensity, float[] latent) = Density<float>(flow, x);
            var outputs = OrtRunner.Run(FlowOnnx.ExportDensity(flow), FlowOnnx.FeaturesName, x.data<float>().ToArray(), (int)x.shape[0], d);
            AssertClose(what + " log-density", logDensity, outputs[FlowOnnx.LogDensityName]);
            AssertClose(what + " latent", latent, outputs[FlowOnnx.LatentName]);
        }

        private static (T[] LogDensity, T[] Latent) Density<T>(NormalizingFlow flow, Tensor x) where T : unmanaged
        {
            using var noGrad = no_grad();
            (Tensor latent, Tensor logDet) = flow.ToLatentWithLogDet(x);
            return ((flow.BaseDistribution.LogProb(latent) + logDet).data<T>().ToArray(), latent.data<T>().ToArray());
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

        /// <summary>A conditional layer's graphs take the context as a second input and compute what TorchSharp does with it.</summary>
        [TestMethod]
        [DynamicData(nameof(ConditionalLayers))]
        public void ConditionalGraphsTakeTheContextAndMatchTorchSharp(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer bound = TestLayers.Create(name, d);
            FlowLayer layer = ((TestLayers.ContextBound)bound).Inner;
            using var flow = new NormalizingFlow(new StandardNormal(d), new[] { layer });
            Tensor context = TestLayers.Context(400);
            Tensor x = randn(400, d, generator: new Generator().manual_seed(4)) * 1.5;
            Tensor logDensity, latent, samples, sampleLogDensity;
            using (no_grad())
            {
                (latent, Tensor logDet) = flow.ToLatentWithLogDet(x, context);
                logDensity = flow.BaseDistribution.LogProb(latent) + logDet;
                (samples, sampleLogDensity) = flow.FromLatent(x, context);
                // The context matters: another context moves the latent.
                Assert.IsTrue((flow.ToLatent(x, context.flip(0)) - latent).abs().max().item<float>() > 1e-3, name + ": the context has no effect");
            }
            var density = OrtRunner.Run(FlowOnnx.ExportDensity(flow), x.data<float>().ToArray(), context.data<float>().ToArray(), 400, d, TestLayers.ContextWidth);
            AssertClose(name + " log-density", logDensity.data<float>().ToArray(), density[FlowOnnx.LogDensityName]);
            AssertClose(name + " latent", latent.data<float>().ToArray(), density[FlowOnnx.LatentName]);
            var sampling = OrtRunner.Run(FlowOnnx.ExportSampling(flow), x.data<float>().ToArray(), context.data<float>().ToArray(), 400, d, TestLayers.ContextWidth, FlowOnnx.NoiseName);
            AssertClose(name + " samples", samples.data<float>().ToArray(), sampling[FlowOnnx.SamplesName]);
            AssertClose(name + " sample log-density", sampleLogDensity.data<float>().ToArray(), sampling[FlowOnnx.LogDensityName]);
        }

        [TestMethod]
        [DataRow("LUInvertibleLinear d=6", 6)]
        [DataRow("Preset NeuralSplineCoupling d=6", 6)]
        [DataRow("Preset MaskedAutoregressive d=3", 3)]
        public void TheSamplingGraphInvertsTheDensityGraph(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            NormalizingFlow flow = AsFlow(layer);
            Tensor x = randn(400, d, generator: new Generator().manual_seed(6));
            float[] latent = OrtRunner.Run(FlowOnnx.ExportDensity(flow), FlowOnnx.FeaturesName, x.data<float>().ToArray(), 400, d)[FlowOnnx.LatentName];
            float[] back = OrtRunner.Run(FlowOnnx.ExportSampling(flow), FlowOnnx.NoiseName, latent, 400, d)[FlowOnnx.SamplesName];
            AssertClose(name + " sampling(density(x))", x.data<float>().ToArray(), back);
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

        /// <summary>|a - b| &lt;= max(1e-9, 1e-9 |a|) element-wise: float64 agreement of two implementations of the same math.</summary>
        private static void AssertClose64(string what, double[] expected, double[] actual) =>
            AssertWithin(what, expected, actual, v => 1e-9 * Math.Max(1, Math.Abs(v)));

        /// <summary>|a - b| &lt;= max(absolute, 1e-5 |a|) element-wise (absolute 1e-4 by default): float32 agreement of two implementations of the same graph.</summary>
        internal static void AssertClose(string what, float[] expected, float[] actual, double absolute = 1e-4) =>
            AssertWithin(what, expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), v => Math.Max(absolute, 1e-5 * Math.Abs(v)));

        /// <summary>|expected - actual| &lt;= bound(expected) element-wise (NaN fails); the message names the worst element.</summary>
        internal static void AssertWithin(string what, double[] expected, double[] actual, Func<double, double> bound)
        {
            Assert.AreEqual(expected.Length, actual.Length, what + ": lengths");
            double worst = 0;
            int worstIndex = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double excess = Math.Abs(expected[i] - actual[i]) - bound(expected[i]);
                if (!(excess <= worst)) (worst, worstIndex) = (double.IsNaN(excess) ? double.PositiveInfinity : excess, i);
            }
            Assert.AreEqual(0, worst, $"{what}: element {worstIndex} expected {expected[worstIndex]:R} got {actual[worstIndex]:R}");
        }
    }
}
