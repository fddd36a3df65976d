using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>The registry of every layer type the tests check: built-in layers, a user layer and a whole flow.</summary>
    internal static class TestLayers
    {
        public static IEnumerable<object[]> All()
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
        public static FlowLayer Create(string name, int d)
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

        /// <summary>A whole flow seen as one layer (its map to the latent space and back).</summary>
        internal sealed class FlowAsLayer : FlowLayer
        {
            private readonly NormalizingFlow flow;

            public FlowAsLayer(NormalizingFlow flow) : base(nameof(FlowAsLayer), flow.Dimension)
            {
                this.flow = flow;
                RegisterComponents();
            }

            public NormalizingFlow Flow => flow;

            public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) => Flow.ToLatentWithLogDet(input);

            public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input)
            {
                (Tensor samples, Tensor logDensity) = Flow.FromLatent(input);
                // log p(x) = log p(z) - log|det dx/dz|, so log|det dx/dz| = log p(z) - log p(x).
                return (samples, Flow.BaseDistribution.LogProb(input) - logDensity);
            }
        }
    }
}
