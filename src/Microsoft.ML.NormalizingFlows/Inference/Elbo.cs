using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>
    /// The evidence lower bound, <c>ELBO = E_q[log p(x) - log q(x)] = log Z - KL(q || p)</c>; minimizing its negative
    /// is reverse-KL variational inference (mode-seeking).
    /// </summary>
    public sealed class Elbo : IVariationalObjective
    {
        private readonly GradientEstimator estimator;

        /// <summary>Creates the objective.</summary>
        /// <param name="estimator">The gradient estimator. Default <see cref="GradientEstimator.Reparameterization"/>.</param>
        public Elbo(GradientEstimator estimator = GradientEstimator.Reparameterization)
        {
            if (!Enum.IsDefined(estimator)) throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "Unknown gradient estimator.");
            this.estimator = estimator;
        }

        /// <inheritdoc />
        public string Name => estimator == GradientEstimator.Reparameterization ? "ELBO" : "ELBO (STL)";

        /// <inheritdoc />
        public (Tensor Loss, Tensor LogWeights) Loss(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, long samples, Generator generator)
        {
            (Tensor x, Tensor logQ) = flow.SampleWithLogDensity(samples, generator);
            if (estimator == GradientEstimator.StickingTheLanding) logQ = FrozenCopies.Of(flow).LogDensity(x);
            Tensor logWeights = logTarget(x) - logQ;
            return (logWeights.mean().neg(), logWeights.detach());
        }
    }

    /// <summary>
    /// The Rényi alpha-divergence bound of Li and Turner (2016), <c>L_a = log mean((p / q)^(1 - a)) / (1 - a)</c> over
    /// the draws: between the ELBO (a -&gt; 1) and the importance-weighted bound (a = 0). For a &lt; 1 it penalizes q for
    /// missing mass of p, so it is mass-covering where the ELBO is mode-seeking. Reparameterization gradient.
    /// </summary>
    public sealed class RenyiAlphaDivergence : IVariationalObjective
    {
        /// <summary>Creates the objective.</summary>
        /// <param name="alpha">a, from 0 (inclusive) to 1 (exclusive). Default 0.5.</param>
        public RenyiAlphaDivergence(double alpha = 0.5)
        {
            if (!(alpha >= 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be at least 0 and below 1 (alpha = 1 is the ELBO).");
            Alpha = alpha;
        }

        /// <summary>a.</summary>
        public double Alpha { get; }

        /// <inheritdoc />
        public string Name => $"Renyi alpha={Alpha}";

        /// <inheritdoc />
        public (Tensor Loss, Tensor LogWeights) Loss(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, long samples, Generator generator)
        {
            (Tensor x, Tensor logQ) = flow.SampleWithLogDensity(samples, generator);
            Tensor logWeights = logTarget(x) - logQ;
            Tensor scaled = logWeights * (1 - Alpha);
            Tensor bound = (scaled.logsumexp(0) - System.Math.Log(samples)) / (1 - Alpha);
            return (bound.neg(), logWeights.detach());
        }
    }
}
