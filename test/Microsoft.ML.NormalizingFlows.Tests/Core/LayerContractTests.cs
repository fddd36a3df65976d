using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>The contract every layer must satisfy, run over a registry of all built-in layers.</summary>
    [TestClass]
    public sealed class LayerContractTests
    {
        public static IEnumerable<object[]> Layers()
        {
            foreach (int d in new[] { 1, 2, 3, 6 })
            {
                yield return new object[] { $"Standardization d={d}", d };
                yield return new object[] { $"Permutation d={d}", d };
                yield return new object[] { $"AffineCoupling even d={d}", d };
                yield return new object[] { $"AffineCoupling odd d={d}", d };
                yield return new object[] { $"RealNvp flow d={d}", d };
                yield return new object[] { $"ElementwiseAffine (user layer) d={d}", d };
            }
        }

        /// <summary>Builds the named layer with random (not identity) parameters. The whole RealNVP flow counts as one layer.</summary>
        private static FlowLayer Create(string name, int d)
        {
            manual_seed(17);
            var random = new Random(17);
            FlowLayer layer = name.Split(' ')[0] switch
            {
                "Standardization" => new Standardization(
                    Enumerable.Range(0, d).Select(_ => random.NextDouble() * 10 - 5).ToArray(),
                    Enumerable.Range(0, d).Select(_ => Math.Exp(random.NextDouble() * 4 - 2)).ToArray()),
                "Permutation" => Permutation.Random(d, random),
                "ElementwiseAffine" => new ElementwiseAffine(d),
                "AffineCoupling" => new AffineCoupling(AffineCoupling.AlternatingMask(d, name.Contains("odd") ? 1 : 0), 16, 2, 3.0),
                "RealNvp" => new FlowAsLayer(FlowFactory.RealNvp(d, 4, 16, 2, 3.0, randomPermutations: true, seed: 17,
                    new Standardization(Enumerable.Repeat(1.5, d).ToArray(), Enumerable.Repeat(2.5, d).ToArray()))),
                _ => throw new ArgumentException(name),
            };
            // A composition of random layers multiplies their scales (up to exp(3) each); keep the flow's latents of order 10
            // so that float32 round trips measure the composition, not the amplification of rounding.
            Perturb(layer, layer is FlowAsLayer ? 0.1 : 0.5);
            return layer;
        }

        /// <summary>Random parameters: coupling conditioners start at zero (the identity map), which would make the checks trivial.</summary>
        private static void Perturb(nn.Module module, double scale)
        {
            using var noGrad = no_grad();
            foreach (var p in module.parameters()) p.copy_(randn_like(p) * scale);
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void InverseUndoesForwardInFloat32(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = Create(name, d);
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
            using FlowLayer layer = Create(name, d);
            layer.to(ScalarType.Float64);
            Tensor x = randn(32, d, dtype: ScalarType.Float64);
            AssertLogDetMatchesJacobian(name + " forward", x, layer.Forward);
            AssertLogDetMatchesJacobian(name + " inverse", x, layer.Inverse);
        }

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void GradientsReachEveryParameterAndAreFinite(string name, int d)
        {
            using var scope = NewDisposeScope();
            using FlowLayer layer = Create(name, d);
            Tensor x = (randn(64, d) * 3).requires_grad_(true);
            (Tensor z, Tensor logDet) = layer.Forward(x);
            (z.square().sum() + logDet.sum()).backward();
            Assert.IsTrue(x.grad is not null && x.grad.isfinite().all().item<bool>(), $"{name}: the input gradient is missing or not finite");
            foreach (var (pname, p) in layer.named_parameters())
            {
                Assert.IsNotNull(p.grad, $"{name}: parameter {pname} received no gradient");
                Assert.IsTrue(p.grad.isfinite().all().item<bool>(), $"{name}: parameter {pname} has a non-finite gradient");
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

        /// <summary>A whole flow seen as one layer (its map to the latent space and back).</summary>
        private sealed class FlowAsLayer : FlowLayer
        {
            private readonly NormalizingFlow flow;

            public FlowAsLayer(NormalizingFlow flow) : base(nameof(FlowAsLayer), flow.Dimension)
            {
                this.flow = flow;
                RegisterComponents();
            }

            public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) => flow.ToLatentWithLogDet(input);

            public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input)
            {
                (Tensor samples, Tensor logDensity) = flow.FromLatent(input);
                // log p(x) = log p(z) - log|det dx/dz|, so log|det dx/dz| = log p(z) - log p(x).
                return (samples, flow.BaseDistribution.LogProb(input) - logDensity);
            }
        }
    }
}
