using Microsoft.ML.NormalizingFlows.Layers;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>Every conditioned layer starts as the identity map (its conditioner's last layer is zero).</summary>
    [TestClass]
    public sealed class IdentityStartTests
    {
        public static IEnumerable<object[]> Layers() =>
            from d in new[] { 1, 2, 5 }
            from kind in new[] { "AffineCoupling", "SplineCoupling", "MaskedAutoregressive", "InverseAutoregressive", "SplineAutoregressive" }
            from parity in new[] { 0, 1 }
            select new object[] { kind, d, parity };

        [TestMethod]
        [DynamicData(nameof(Layers))]
        public void AFreshLayerIsTheIdentityInBothDirections(string kind, int d, int parity)
        {
            using var scope = NewDisposeScope();
            manual_seed(3);
            bool[] mask = CouplingLayer.AlternatingMask(d, parity);
            using FlowLayer layer = kind switch
            {
                "AffineCoupling" => new AffineCoupling(mask, 8, 2, 3.0),
                "SplineCoupling" => new SplineCoupling(mask, 8, 2, 6, 3.0),
                "MaskedAutoregressive" => new MaskedAutoregressive(d, 8, 2, 3.0, residual: parity == 1),
                "InverseAutoregressive" => new InverseAutoregressive(d, 8, 2, 3.0),
                _ => new SplineAutoregressive(d, 8, 2, 6, 3.0, residual: parity == 1),
            };
            // Inside the spline interval and beyond it; float32 arithmetic of the identity rounds to a few ulps.
            Tensor x = randn(300, d, generator: new Generator().manual_seed(4)) * 2;
            foreach (bool inverse in new[] { false, true })
            {
                using var noGrad = no_grad();
                (Tensor y, Tensor logDet) = inverse ? layer.Inverse(x) : layer.Forward(x);
                double error = (y - x).abs().max().item<float>();
                double volume = logDet.abs().max().item<float>();
                Assert.IsTrue(error <= 2e-6, $"{kind} d={d} (inverse: {inverse}): max |y - x| = {error}");
                Assert.IsTrue(volume <= 2e-6, $"{kind} d={d} (inverse: {inverse}): max |log det| = {volume}");
            }
        }

        [TestMethod]
        public void AOneFeatureCouplingTransformsItsFeature()
        {
            using var scope = NewDisposeScope();
            foreach (int index in new[] { 0, 1 })
                CollectionAssert.AreEqual(new[] { false }, CouplingLayer.AlternatingMask(1, index));
            var e = Assert.ThrowsExactly<ArgumentException>(() => new AffineCoupling(new[] { true, true }, 8, 1, 3.0));
            StringAssert.Contains(e.Message, "identity");
        }
    }
}
