using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>The contract every layer must satisfy, run over a registry of all built-in layers.</summary>
    [TestClass]
    public sealed class LayerContractTests
    {
        public static IEnumerable<object[]> Layers() => TestLayers.All();

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void InverseUndoesForwardInFloat32(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            if (TestLayers.SamplingOnly(name))
            {
                var e = Assert.ThrowsExactly<NotSupportedException>(() => layer.Forward(randn(4, d)));
                StringAssert.Contains(e.Message, "no closed-form inverse");
                return;
            }
            Tensor x = randn(256, d);
            (Tensor z, Tensor forwardLogDet) = layer.Forward(x);
            (Tensor back, Tensor inverseLogDet) = layer.Inverse(z);
            double error = (back - x).abs().max().item<float>();
            Assert.IsTrue(error <= 1e-5, $"{name}: max |inverse(forward(x)) - x| = {error}, max |z| = {z.abs().max().item<float>()}");
            double logDetSum = (forwardLogDet + inverseLogDet).abs().max().item<float>();
            Assert.IsTrue(logDetSum <= 1e-4, $"{name}: forward and inverse log-dets do not cancel ({logDetSum})");
            CollectionAssert.AreEqual(new long[] { 256 }, forwardLogDet.shape);
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void LogDetMatchesAutodiffJacobianInFloat64(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            layer.to(ScalarType.Float64);
            Tensor x = randn(32, d, dtype: ScalarType.Float64);
            if (!TestLayers.SamplingOnly(name)) AssertLogDetMatchesJacobian(name + " forward", x, layer.Forward);
            AssertLogDetMatchesJacobian(name + " inverse", x, layer.Inverse);
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void GradientsReachEveryParameterAndAreFinite(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            Tensor x = (randn(64, d) * 3).requires_grad_(true);
            if (layer is TestLayers.FlowAsLayer whole)
            {
                whole.Flow.LogDensity(x).sum().backward(); // reaches the base distribution's parameters too
            }
            else
            {
                (Tensor z, Tensor logDet) = TestLayers.SamplingOnly(name) ? layer.Inverse(x) : layer.Forward(x);
                (z.square().sum() + logDet.sum()).backward();
            }
            Assert.IsTrue(x.grad is not null && x.grad.isfinite().all().item<bool>(), $"{name}: the input gradient is missing or not finite");
            foreach (var (pname, p) in layer.named_parameters())
            {
                Assert.IsNotNull(p.grad, $"{name}: parameter {pname} received no gradient");
                Assert.IsTrue(p.grad.isfinite().all().item<bool>(), $"{name}: parameter {pname} has a non-finite gradient");
            }
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void ValuesAndGradientsAreFiniteFarOutside(string name, int d)
        {
            // |x| = 1e4 in every feature (signs mixed): far outside any spline interval and any training data.
            using var scope = NewDisposeScope();
            using FlowLayer layer = TestLayers.Create(name, d);
            Tensor signs = randn(32, d).sign();
            foreach (bool inverse in TestLayers.SamplingOnly(name) ? new[] { true } : new[] { false, true })
            {
                layer.zero_grad();
                Tensor x = (signs * 1e4).requires_grad_(true);
                (Tensor y, Tensor logDet) = inverse ? layer.Inverse(x) : layer.Forward(x);
                Assert.IsTrue(y.isfinite().all().item<bool>() && logDet.isfinite().all().item<bool>(), $"{name} (inverse: {inverse}): non-finite values");
                (y.sum() + logDet.sum()).backward();
                Assert.IsTrue(x.grad!.isfinite().all().item<bool>(), $"{name} (inverse: {inverse}): non-finite input gradient");
                foreach (var (pname, p) in layer.named_parameters())
                    Assert.IsTrue(p.grad is null || p.grad.isfinite().all().item<bool>(), $"{name} (inverse: {inverse}): non-finite gradient of {pname}");
            }
        }

        // J[n, i, j] = d out[n, i] / d in[n, j], one backward pass per output feature (rows are independent).
        internal static void AssertLogDetMatchesJacobian(string name, Tensor x, Func<Tensor, (Tensor Output, Tensor LogAbsDetJacobian)> map)
        {
            Tensor input = x.detach().clone().requires_grad_(true);
            (Tensor output, Tensor logDet) = map(input);
            int d = (int)x.shape[1];
            var rows = new List<Tensor>();
            for (int i = 0; i < d; i++)
                rows.Add(autograd.grad(new[] { output[.., i].sum() }, new[] { input }, retain_graph: true, allow_unused: true)[0]
                         ?? zeros_like(input));
            Tensor jacobian = stack(rows, 1);
            Tensor expected = linalg.slogdet(jacobian).Item2;
            double error = (expected - logDet.detach()).abs().max().item<double>();
            Assert.IsTrue(error <= 1e-4, $"{name}: |log|det J| - autodiff| = {error}");
        }
    }
}
