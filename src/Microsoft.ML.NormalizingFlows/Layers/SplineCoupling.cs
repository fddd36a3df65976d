using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Transforms;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// The rational-quadratic spline coupling layer of Neural Spline Flows (Durkan et al., 2019): the features where
    /// <c>m = 0</c> go through a monotonic spline of K bins on <c>[-B, B]</c> (identity outside) whose knots and
    /// derivatives a network computes from the passed features. Fast in both directions.
    /// </summary>
    public sealed class SplineCoupling : CouplingLayer
    {
        internal const string TypeName = nameof(SplineCoupling);

        /// <summary>Creates the layer.</summary>
        /// <param name="mask">Per feature: <c>true</c> to pass it unchanged (and condition on it), <c>false</c> to transform it.</param>
        /// <param name="hiddenUnits">The conditioner's hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The conditioner's number of hidden layers; at least 1.</param>
        /// <param name="bins">K, the number of spline bins; at least 2.</param>
        /// <param name="tailBound">B: the spline acts on <c>[-B, B]</c>; greater than 0.</param>
        /// <param name="contextWidth">The context values per row the conditioner also reads; 0 (the default) for an unconditional layer.</param>
        public SplineCoupling(bool[] mask, int hiddenUnits, int hiddenLayers, int bins, double tailBound, int contextWidth = 0)
            : base(TypeName, mask, new SplineTransform(bins, tailBound), hiddenUnits, hiddenLayers, contextWidth)
        {
        }

        internal static SplineCoupling Create(JsonObject settings)
        {
            (bool[] mask, int units, int layers, int context) = Read(settings);
            SplineTransform spline = SplineTransform.Create(settings);
            return new SplineCoupling(mask, units, layers, spline.Bins, spline.TailBound, context);
        }
    }
}
