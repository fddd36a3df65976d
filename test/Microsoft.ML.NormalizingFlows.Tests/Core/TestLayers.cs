using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>
    /// The registry of every layer type the tests check: each built-in layer, every preset (a whole flow counts as one
    /// layer), flows over each base distribution, and a user layer.
    /// </summary>
    internal static class TestLayers
    {
        private static readonly string[] Kinds =
        {
            "Standardization", "Permutation", "AffineCoupling even", "AffineCoupling odd", "SplineCoupling even", "SplineCoupling odd",
            "MaskedAutoregressive", "MaskedAutoregressive residual", "InverseAutoregressive", "SplineAutoregressive", "ActNorm",
            "LUInvertibleLinear", "PlanarLayer", "RadialLayer",
            "Preset RealNvp", "Preset NeuralSplineCoupling", "Preset NeuralSplineAutoregressive", "Preset MaskedAutoregressive",
            "Preset InverseAutoregressive", "Base DiagonalGaussian", "Base StudentT", "Base GaussianMixture", "ElementwiseAffine (user layer)",
            "AffineCoupling context", "SplineCoupling context", "MaskedAutoregressive context", "SplineAutoregressive context",
        };

        /// <summary>The context width of the conditional kinds.</summary>
        public const int ContextWidth = 2;

        /// <summary>Conditional layers (their name ends in "context"): <see cref="Create"/> binds them to <see cref="Context"/>.</summary>
        public static bool Conditional(string name) => name.Contains(" context");

        /// <summary>A fixed, varied context for N rows: <c>c[n, j] = 2 sin(0.37 n + 1.3 j)</c>.</summary>
        public static Tensor Context(long rows, ScalarType type = ScalarType.Float32)
        {
            Tensor n = arange(rows, dtype: ScalarType.Float64).unsqueeze(1);
            Tensor j = arange(ContextWidth, dtype: ScalarType.Float64).unsqueeze(0);
            return ((n * 0.37 + j * 1.3).sin() * 2).to_type(type);
        }

        public static IEnumerable<object[]> All() =>
            from d in new[] { 1, 2, 3, 6 } from kind in Kinds select new object[] { $"{kind} d={d}", d };

        /// <summary>Layers that exist only on the sampling side (no closed-form inverse).</summary>
        public static bool SamplingOnly(string name) => name.StartsWith("PlanarLayer") || name.StartsWith("RadialLayer");

        /// <summary>Builds the named layer with random (not identity) parameters.</summary>
        public static FlowLayer Create(string name, int d)
        {
            manual_seed(17);
            var random = new Random(17);
            string[] words = name.Split(' ');
            if (Conditional(name))
            {
                FlowLayer conditional = words[0] switch
                {
                    "AffineCoupling" => new AffineCoupling(CouplingLayer.AlternatingMask(d, 0), 16, 2, 3.0, ContextWidth),
                    "SplineCoupling" => new SplineCoupling(CouplingLayer.AlternatingMask(d, 1), 16, 2, 6, 3.0, ContextWidth),
                    "MaskedAutoregressive" => new MaskedAutoregressive(d, 16, 2, 3.0, contextWidth: ContextWidth),
                    _ => new SplineAutoregressive(d, 16, 2, 6, 3.0, contextWidth: ContextWidth),
                };
                Perturb(conditional, 0.2);
                return new ContextBound(conditional);
            }
            FlowLayer layer = words[0] switch
            {
                "Standardization" => new Standardization(
                    Enumerable.Range(0, d).Select(_ => random.NextDouble() * 10 - 5).ToArray(),
                    Enumerable.Range(0, d).Select(_ => System.Math.Exp(random.NextDouble() * 4 - 2)).ToArray()),
                "Permutation" => Permutation.Random(d, random),
                "ElementwiseAffine" => new ElementwiseAffine(d),
                "AffineCoupling" => new AffineCoupling(CouplingLayer.AlternatingMask(d, words[1] == "odd" ? 1 : 0), 16, 2, 3.0),
                "SplineCoupling" => new SplineCoupling(CouplingLayer.AlternatingMask(d, words[1] == "odd" ? 1 : 0), 16, 2, 6, 3.0),
                "MaskedAutoregressive" => new MaskedAutoregressive(d, 16, 2, 3.0, residual: words[1] == "residual"),
                "InverseAutoregressive" => new InverseAutoregressive(d, 16, 2, 3.0),
                "SplineAutoregressive" => new SplineAutoregressive(d, 16, 2, 6, 3.0),
                "ActNorm" => new ActNorm(d),
                "LUInvertibleLinear" => LUInvertibleLinear.WithRandomPermutation(d, random),
                "PlanarLayer" => new PlanarLayer(d),
                "RadialLayer" => new RadialLayer(d),
                "Preset" => new FlowAsLayer(Preset(Enum.Parse<FlowPreset>(words[1]), d, BaseDistributionKind.StandardNormal)),
                "Base" => new FlowAsLayer(Preset(FlowPreset.RealNvp, d, Enum.Parse<BaseDistributionKind>(words[1]))),
                _ => throw new ArgumentException(name),
            };
            // Random but not pathological: conditioner outputs of order one give splines whose slopes stay within a few
            // orders of magnitude (float32 round trips on standardized inputs then hold to 1e-5), and a whole flow's
            // latents stay of order 10 (a composition multiplies the layers' scales).
            Perturb(layer, layer is FlowAsLayer ? 0.1 : 0.2);
            return layer;
        }

        private static NormalizingFlow Preset(FlowPreset preset, int d, BaseDistributionKind baseKind)
        {
            var architecture = new FlowArchitecture
            {
                Preset = preset, NumberOfLayers = 3, HiddenUnits = 16, HiddenLayers = 2, NumberOfBins = 5, TailBound = 3,
                RandomPermutations = true, ActNorm = preset == FlowPreset.MaskedAutoregressive, BaseDistribution = baseKind,
            };
            NormalizingFlow flow = FlowFactory.Create(d, architecture, seed: 17,
                new Standardization(Enumerable.Repeat(1.5, d).ToArray(), Enumerable.Repeat(2.5, d).ToArray()));
            using (no_grad()) flow.LogDensity(randn(64, d) * 2.5 + 1.5); // initializes ActNorm layers from data
            flow.eval();
            return flow;
        }

        /// <summary>Random parameters: conditioners start at zero (the identity map), which would make the checks trivial.</summary>
        private static void Perturb(nn.Module module, double scale)
        {
            using var noGrad = no_grad();
            foreach (var p in module.parameters()) p.add_(randn_like(p) * scale);
            module.eval();
        }

        /// <summary>A conditional layer fed <see cref="Context"/> for its rows, so the layer checks apply to it unchanged.</summary>
        internal sealed class ContextBound : FlowLayer
        {
            private readonly FlowLayer inner;

            public ContextBound(FlowLayer inner) : base(nameof(ContextBound), inner.Dimension)
            {
                this.inner = inner;
                RegisterComponents();
            }

            public FlowLayer Inner => inner;

            public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) => inner.Forward(input, Context(input.shape[0], input.dtype));

            public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input) => inner.Inverse(input, Context(input.shape[0], input.dtype));
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
