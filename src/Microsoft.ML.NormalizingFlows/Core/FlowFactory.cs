using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>Builds the library's ready-made flow architectures (<see cref="FlowPreset"/>).</summary>
    public static class FlowFactory
    {
        /// <summary>Builds a preset flow over a base distribution, optionally after a standardization layer.</summary>
        /// <param name="dimension">The number of features; at least 1.</param>
        /// <param name="architecture">The preset and its sizes; validated here.</param>
        /// <param name="seed">Seeds the parameter initialization and the permutations: a seed gives an identical flow.</param>
        /// <param name="standardization">A standardization to put first, or <c>null</c>.</param>
        /// <param name="elementType">Float32 (the default) or Float64.</param>
        /// <param name="contextWidth">
        /// For a conditional flow <c>p(x | c)</c>, the context values per row that every coupling and autoregressive
        /// layer's conditioner reads; 0 (the default) for an unconditional flow.
        /// </param>
        /// <returns>The flow, on the CPU.</returns>
        public static NormalizingFlow Create(int dimension, FlowArchitecture architecture, int seed,
            Standardization? standardization = null, ScalarType elementType = ScalarType.Float32, int contextWidth = 0)
        {
            if (contextWidth < 0) throw new ArgumentOutOfRangeException(nameof(contextWidth), contextWidth, "The context width must be 0 (unconditional) or more.");
            ArgumentNullException.ThrowIfNull(architecture);
            architecture.Validate();
            if (architecture.Preset == FlowPreset.Auto)
                throw new ArgumentException("FlowPreset.Auto is the estimators' choice among fits; a flow built directly needs a named preset (for example NeuralSplineCoupling).", nameof(architecture));
            if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "A flow needs at least one feature.");
            if (elementType != ScalarType.Float32 && elementType != ScalarType.Float64)
                throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Only Float32 and Float64 flows are supported.");
            if (standardization is not null && standardization.Dimension != dimension)
                throw new ArgumentException($"The standardization has dimension {standardization.Dimension} but the flow has {dimension}.", nameof(standardization));

            using ParameterInitialization.Scope initialization = ParameterInitialization.Seeded(seed);
            var random = new Random(seed);
            var layers = new List<FlowLayer>();
            if (standardization is not null) layers.Add(standardization);
            FlowArchitecture a = architecture;
            for (int i = 0; i < a.NumberOfLayers; i++)
            {
                FlowLayer? mixing = a.Preset switch
                {
                    FlowPreset.RealNvp => a.RandomPermutations && i > 0 ? Permutation.Random(dimension, random) : null,
                    FlowPreset.NeuralSplineCoupling => LUInvertibleLinear.WithRandomPermutation(dimension, random),
                    _ => i > 0 ? Permutation.Reverse(dimension) : null,
                };
                if (mixing is not null) layers.Add(mixing);
                if (a.ActNorm) layers.Add(new ActNorm(dimension));
                layers.Add(a.Preset switch
                {
                    FlowPreset.RealNvp => new AffineCoupling(CouplingLayer.AlternatingMask(dimension, i), a.HiddenUnits, a.HiddenLayers, a.LogScaleBound, contextWidth),
                    FlowPreset.NeuralSplineCoupling => new SplineCoupling(CouplingLayer.AlternatingMask(dimension, i), a.HiddenUnits, a.HiddenLayers, a.NumberOfBins, a.TailBound, contextWidth),
                    FlowPreset.NeuralSplineAutoregressive => new SplineAutoregressive(dimension, a.HiddenUnits, a.HiddenLayers, a.NumberOfBins, a.TailBound, a.ResidualBlocks, contextWidth),
                    FlowPreset.MaskedAutoregressive => new MaskedAutoregressive(dimension, a.HiddenUnits, a.HiddenLayers, a.LogScaleBound, a.ResidualBlocks, contextWidth),
                    _ => new InverseAutoregressive(dimension, a.HiddenUnits, a.HiddenLayers, a.LogScaleBound, a.ResidualBlocks, contextWidth),
                });
            }
            BaseDistribution baseDistribution = a.BaseDistribution switch
            {
                BaseDistributionKind.DiagonalGaussian => new DiagonalGaussian(dimension),
                BaseDistributionKind.StudentT => new StudentT(dimension),
                BaseDistributionKind.GaussianMixture => new GaussianMixture(dimension, a.MixtureComponents, seed),
                _ => new StandardNormal(dimension),
            };
            var flow = new NormalizingFlow(baseDistribution, layers);
            if (elementType != ScalarType.Float32) flow.to(elementType);
            return flow;
        }

        /// <summary>
        /// A RealNVP flow: an optional standardization, then <paramref name="couplingLayers"/> affine coupling layers
        /// with alternating masks (and, when asked, a seeded random permutation before each coupling after the first),
        /// over a standard-normal base.
        /// </summary>
        /// <param name="dimension">The number of features; at least 1 (with 1 feature the flow is an affine map of a normal).</param>
        /// <param name="couplingLayers">The number of coupling layers; 1 to 64.</param>
        /// <param name="hiddenUnits">The conditioners' hidden width; 1 to 4096.</param>
        /// <param name="hiddenLayers">The conditioners' number of hidden layers; 1 to 16.</param>
        /// <param name="logScaleBound">The bound on each coupling's absolute log-scale; greater than 0, at most 20.</param>
        /// <param name="randomPermutations">Whether to put a random permutation before each coupling after the first.</param>
        /// <param name="seed">Seeds the parameter initialization and the permutations.</param>
        /// <param name="standardization">A standardization to put first, or <c>null</c>.</param>
        /// <param name="elementType">Float32 (the default) or Float64.</param>
        /// <returns>The flow, on the CPU.</returns>
        public static NormalizingFlow RealNvp(
            int dimension, int couplingLayers, int hiddenUnits, int hiddenLayers, double logScaleBound,
            bool randomPermutations, int seed, Standardization? standardization = null,
            ScalarType elementType = ScalarType.Float32) =>
            Create(dimension, new FlowArchitecture
            {
                Preset = FlowPreset.RealNvp, NumberOfLayers = couplingLayers, HiddenUnits = hiddenUnits, HiddenLayers = hiddenLayers,
                LogScaleBound = logScaleBound, RandomPermutations = randomPermutations,
            }, seed, standardization, elementType);
    }
}
