using Microsoft.ML.NormalizingFlows.Conditioners;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// The affine coupling layer of RealNVP (Dinh, Sohl-Dickstein and Bengio, 2017). With a binary mask <c>m</c>, the
    /// features where <c>m = 1</c> pass unchanged and condition an affine map of the others:
    /// <c>y = m * x + (1 - m) * (x * exp(s) + t)</c>, where <c>(s, t) = NN(m * x)</c> and
    /// <c>log|det J| = sum((1 - m) * s)</c>. The log-scale is bounded softly, <c>s = B tanh(raw / B)</c>, which keeps
    /// every step's volume change within <c>exp(+-B)</c> per feature and training stable.
    /// </summary>
    public sealed partial class AffineCoupling : FlowLayer
    {
        private readonly Tensor mask;
        private readonly Tensor transformedMask;
        private readonly MultilayerPerceptron conditioner;
        private readonly double logScaleBound;
        private readonly int hiddenUnits;
        private readonly int hiddenLayers;

        /// <summary>Creates the layer.</summary>
        /// <param name="mask">Per feature: <c>true</c> to pass it unchanged (and condition on it), <c>false</c> to transform it.</param>
        /// <param name="hiddenUnits">The conditioner's hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The conditioner's number of hidden layers; at least 1.</param>
        /// <param name="logScaleBound">The bound <c>B</c> on the absolute log-scale; greater than 0.</param>
        public AffineCoupling(bool[] mask, int hiddenUnits, int hiddenLayers, double logScaleBound)
            : base(nameof(AffineCoupling), mask?.Length ?? 0)
        {
            ArgumentNullException.ThrowIfNull(mask);
            if (!(logScaleBound > 0) || double.IsInfinity(logScaleBound))
                throw new ArgumentOutOfRangeException(nameof(logScaleBound), logScaleBound, "The log-scale bound must be finite and greater than 0.");
            this.logScaleBound = logScaleBound;
            this.hiddenUnits = hiddenUnits;
            this.hiddenLayers = hiddenLayers;
            this.mask = tensor(mask.Select(b => b ? 1f : 0f).ToArray());
            transformedMask = 1f - this.mask;
            conditioner = new MultilayerPerceptron(Dimension, 2 * Dimension, hiddenUnits, hiddenLayers);
            register_buffer(nameof(this.mask), this.mask);
            register_buffer(nameof(transformedMask), transformedMask);
            RegisterComponents();
        }

        /// <summary>
        /// The mask of coupling layer <paramref name="index"/> in an alternating sequence: even layers pass the even
        /// features, odd layers the odd ones (a checkerboard over feature indices).
        /// </summary>
        /// <param name="dimension">The number of features.</param>
        /// <param name="index">The position of the coupling layer in the flow.</param>
        /// <returns>The mask; <c>true</c> marks a feature passed unchanged.</returns>
        public static bool[] AlternatingMask(int dimension, int index) =>
            Enumerable.Range(0, dimension).Select(j => (j + index) % 2 == 0).ToArray();

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input)
        {
            (Tensor logScale, Tensor shift) = ScaleAndShift(input);
            Tensor output = input * mask + transformedMask * (input * logScale.exp() + shift);
            return (output, logScale.sum(1));
        }

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input)
        {
            (Tensor logScale, Tensor shift) = ScaleAndShift(input);
            Tensor output = input * mask + transformedMask * ((input - shift) * logScale.neg().exp());
            return (output, logScale.sum(1).neg());
        }

        // The conditioner sees only the passed features, which both directions share; the log-scale and shift are zero
        // on the passed features.
        private (Tensor LogScale, Tensor Shift) ScaleAndShift(Tensor input)
        {
            Tensor[] parts = conditioner.forward(input * mask).chunk(2, 1);
            Tensor logScale = (parts[0] / logScaleBound).tanh() * logScaleBound * transformedMask;
            return (logScale, parts[1] * transformedMask);
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) conditioner.Dispose();
            base.Dispose(disposing);
        }
    }
}
