using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Transforms;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// The affine coupling layer of RealNVP (Dinh, Sohl-Dickstein and Bengio, 2017):
    /// <c>y = m x + (1 - m) (x exp(s) + t)</c>, <c>(s, t) = NN(m x)</c>, <c>log|det J| = sum((1 - m) s)</c>. The
    /// log-scale is bounded softly, <c>s = B tanh(raw / B)</c>, which keeps each layer's volume change within
    /// <c>exp(+-B)</c> per feature and training stable.
    /// </summary>
    public sealed class AffineCoupling : CouplingLayer
    {
        internal const string TypeName = nameof(AffineCoupling);

        /// <summary>Creates the layer.</summary>
        /// <param name="mask">Per feature: <c>true</c> to pass it unchanged (and condition on it), <c>false</c> to transform it.</param>
        /// <param name="hiddenUnits">The conditioner's hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The conditioner's number of hidden layers; at least 1.</param>
        /// <param name="logScaleBound">The bound <c>B</c> on the absolute log-scale; greater than 0.</param>
        /// <param name="contextWidth">The context values per row the conditioner also reads; 0 (the default) for an unconditional layer.</param>
        public AffineCoupling(bool[] mask, int hiddenUnits, int hiddenLayers, double logScaleBound, int contextWidth = 0)
            : base(TypeName, mask, new AffineTransform(logScaleBound), hiddenUnits, hiddenLayers, contextWidth)
        {
        }

        internal static AffineCoupling Create(JsonObject settings)
        {
            (bool[] mask, int units, int layers, int context) = Read(settings);
            return new AffineCoupling(mask, units, layers, AffineTransform.Create(settings).LogScaleBound, context);
        }
    }
}
