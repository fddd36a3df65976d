using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>Builds the library's ready-made flow architectures.</summary>
    public static class FlowFactory
    {
        /// <summary>
        /// A RealNVP flow: an optional standardization, then <paramref name="couplingLayers"/> affine coupling layers
        /// with alternating masks (and, when asked, a seeded random permutation before each coupling after the first),
        /// over a standard-normal base.
        /// </summary>
        /// <param name="dimension">The number of features; at least 1 (with 1 feature the flow is an affine map of a normal).</param>
        /// <param name="couplingLayers">The number of coupling layers; at least 1.</param>
        /// <param name="hiddenUnits">The conditioners' hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The conditioners' number of hidden layers; at least 1.</param>
        /// <param name="logScaleBound">The bound on each coupling's absolute log-scale; greater than 0.</param>
        /// <param name="randomPermutations">Whether to put a random permutation before each coupling after the first.</param>
        /// <param name="seed">Seeds the parameter initialization and the permutations.</param>
        /// <param name="standardization">A standardization to put first, or <c>null</c>.</param>
        /// <param name="elementType">Float32 (the default) or Float64.</param>
        /// <returns>The flow, on the CPU.</returns>
        public static NormalizingFlow RealNvp(
            int dimension, int couplingLayers, int hiddenUnits, int hiddenLayers, double logScaleBound,
            bool randomPermutations, int seed, Standardization? standardization = null,
            ScalarType elementType = ScalarType.Float32)
        {
            if (couplingLayers < 1)
                throw new ArgumentOutOfRangeException(nameof(couplingLayers), couplingLayers, "A RealNVP flow needs at least one coupling layer.");
            if (elementType != ScalarType.Float32 && elementType != ScalarType.Float64)
                throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Only Float32 and Float64 flows are supported.");
            if (standardization is not null && standardization.Dimension != dimension)
                throw new ArgumentException($"The standardization has dimension {standardization.Dimension} but the flow has {dimension}.", nameof(standardization));

            manual_seed(seed);
            var random = new Random(seed);
            var layers = new List<FlowLayer>();
            if (standardization is not null) layers.Add(standardization);
            for (int i = 0; i < couplingLayers; i++)
            {
                if (randomPermutations && i > 0) layers.Add(Permutation.Random(dimension, random));
                layers.Add(new AffineCoupling(AffineCoupling.AlternatingMask(dimension, i), hiddenUnits, hiddenLayers, logScaleBound));
            }
            var flow = new NormalizingFlow(new StandardNormal(dimension), layers);
            if (elementType != ScalarType.Float32) flow.to(elementType);
            return flow;
        }
    }
}
