using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Ops;

namespace Microsoft.ML.NormalizingFlows.Transforms
{
    /// <summary>
    /// <c>y = x exp(s) + t</c> with a softly bounded log-scale <c>s = B tanh(raw / B)</c>; <c>log|dy/dx| = s</c>.
    /// Parameters parameter-major: <c>[raw_1..raw_d, t_1..t_d]</c>. Zero parameters give the identity.
    /// </summary>
    internal sealed class AffineTransform : IElementwiseTransform
    {
        public AffineTransform(double logScaleBound)
        {
            if (!(logScaleBound > 0) || double.IsInfinity(logScaleBound))
                throw new ArgumentOutOfRangeException(nameof(logScaleBound), logScaleBound, "The log-scale bound must be finite and greater than 0.");
            LogScaleBound = logScaleBound;
        }

        public double LogScaleBound { get; }

        public int ParametersPerFeature => 2;

        public bool FeatureMajor => false;

        public (V Output, V LogAbsDet) Apply<V>(IFlowOps<V> o, V input, V parameters, int features, bool inverse) where V : class
        {
            V shift = o.Narrow(parameters, 1, features, features);
            V logScale = o.Mul(o.Tanh(o.Mul(o.Narrow(parameters, 1, 0, features), 1 / LogScaleBound)), LogScaleBound);
            if (!inverse) return (o.Add(o.Mul(input, o.Exp(logScale)), shift), logScale);
            V negative = o.Neg(logScale);
            return (o.Mul(o.Sub(input, shift), o.Exp(negative)), negative);
        }

        public void Describe(JsonObject settings) => settings["logScaleBound"] = LogScaleBound;

        public static AffineTransform Create(JsonObject settings) => new(settings["logScaleBound"]!.GetValue<double>());
    }
}
