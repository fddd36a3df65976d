using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    /// <summary>
    /// The standard normal distribution N(0, I):
    /// <c>log p(z) = -||z||^2 / 2 - (d / 2) log(2 pi)</c>.
    /// </summary>
    public sealed partial class StandardNormal : BaseDistribution
    {
        private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

        /// <summary>Creates N(0, I) over rows of <paramref name="dimension"/> values.</summary>
        /// <param name="dimension">The number of values in a row; at least 1.</param>
        public StandardNormal(int dimension) : base(nameof(StandardNormal), dimension)
        {
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor LogProb(Tensor latent) =>
            latent.square().sum(1).mul(-0.5).sub(Dimension * HalfLogTwoPi);

        /// <inheritdoc />
        public override Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null) =>
            randn(new[] { count, (long)Dimension }, dtype: dtype, device: device, generator: generator);
    }
}
