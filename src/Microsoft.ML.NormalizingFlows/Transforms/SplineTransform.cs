using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Ops;
using Microsoft.ML.NormalizingFlows.Splines;

namespace Microsoft.ML.NormalizingFlows.Transforms
{
    /// <summary>The rational-quadratic spline with identity tails (<see cref="RationalQuadraticSpline"/>); parameters feature-major.</summary>
    internal sealed class SplineTransform : IElementwiseTransform
    {
        public SplineTransform(int bins, double tailBound)
        {
            if (bins < 2) throw new ArgumentOutOfRangeException(nameof(bins), bins, "A spline needs at least 2 bins.");
            if (!(tailBound > 0) || double.IsInfinity(tailBound))
                throw new ArgumentOutOfRangeException(nameof(tailBound), tailBound, "The tail bound must be finite and greater than 0.");
            Bins = bins;
            TailBound = tailBound;
        }

        public int Bins { get; }

        public double TailBound { get; }

        public int ParametersPerFeature => RationalQuadraticSpline.ParameterCount(Bins);

        public bool FeatureMajor => true;

        public (V Output, V LogAbsDet) Apply<V>(IFlowOps<V> o, V input, V parameters, int features, bool inverse) where V : class =>
            RationalQuadraticSpline.Apply(o, input, o.Reshape(parameters, 0, features, ParametersPerFeature), features, Bins, TailBound, inverse);

        public void Describe(JsonObject settings)
        {
            settings["bins"] = Bins;
            settings["tailBound"] = TailBound;
        }

        public static SplineTransform Create(JsonObject settings) =>
            new(settings["bins"]!.GetValue<int>(), settings["tailBound"]!.GetValue<double>());
    }
}
