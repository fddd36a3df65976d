using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    /// <summary>
    /// The distribution of the latent variable of a flow. It is a module so that a base distribution can own trainable
    /// parameters.
    /// </summary>
    public abstract class BaseDistribution : nn.Module
    {
        /// <summary>Creates a base distribution over rows of <paramref name="dimension"/> values.</summary>
        /// <param name="name">The module name.</param>
        /// <param name="dimension">The number of values in a row; at least 1.</param>
        protected BaseDistribution(string name, int dimension) : base(name)
        {
            if (dimension < 1)
                throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "A base distribution needs a dimension of at least 1.");
            Dimension = dimension;
        }

        /// <summary>The number of values in a row.</summary>
        public int Dimension { get; }

        /// <summary>The log-density of each row of <paramref name="latent"/> (<c>[N, Dimension]</c> to <c>[N]</c>).</summary>
        /// <param name="latent">Latent rows.</param>
        /// <returns>Natural-log densities, one per row.</returns>
        public abstract Tensor LogProb(Tensor latent);

        /// <summary>
        /// Draws <paramref name="count"/> independent rows; a distribution with parameters should draw them
        /// reparameterized (differentiable in its parameters), as variational inference's path gradients need.
        /// </summary>
        /// <param name="count">How many rows to draw.</param>
        /// <param name="dtype">The element type of the result.</param>
        /// <param name="device">The device of the result.</param>
        /// <param name="generator">A random generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <returns>A tensor of shape <c>[count, Dimension]</c>.</returns>
        public abstract Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null);

        /// <summary>Whether <see cref="FromNoise"/> reads the per-row uniforms (a base whose draw is not a transform of its normal noise).</summary>
        internal virtual bool ReadsUniforms => true;

        /// <summary>
        /// Draws row by row from given randomness, so that a row's draw depends on its own noise only: standard-normal
        /// <paramref name="normal"/> <c>[N, Dimension]</c> and one uniform in [0, 1) per row. This default seeds a generator
        /// per row from its uniform and draws one row with <see cref="Sample"/>, exact for any base; bases whose draw is a
        /// transform of normal noise override it. <paramref name="temperature"/> scales the noise (in this default, the draw).
        /// </summary>
        internal virtual Tensor FromNoise(Tensor normal, double[] uniforms, double temperature)
        {
            using var scope = NewDisposeScope();
            var rows = new Tensor[normal.shape[0]];
            for (int i = 0; i < rows.Length; i++)
            {
                using var generator = new Generator().manual_seed((long)(uniforms[i] * (1L << 53)));
                rows[i] = Sample(1, normal.dtype, normal.device, generator);
            }
            return (cat(rows, 0) * temperature).MoveToOuterDisposeScope();
        }
    }
}
