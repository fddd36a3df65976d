using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>How well a fitted flow q matches a target p, from draws of q.</summary>
    /// <param name="Elbo">The mean of <c>log w = log p(x) - log q(x)</c>: a lower bound on log Z (equal when q = p / Z).</param>
    /// <param name="ElboStandardError">The Monte Carlo standard error of <see cref="Elbo"/>.</param>
    /// <param name="LogNormalizer">The importance-sampling estimate of log Z, <c>log mean(w)</c>.</param>
    /// <param name="EffectiveSampleSize">Kish's effective sample size of the weights, <c>(sum w)^2 / sum w^2</c>.</param>
    /// <param name="Samples">The number of draws.</param>
    /// <param name="ParetoK">The Pareto k-hat of the weights: below 0.5 good, 0.5 to 0.7 usable, above 0.7 unreliable (see <see cref="ParetoSmoothing"/>).</param>
    public sealed record VariationalReport(double Elbo, double ElboStandardError, double LogNormalizer, double EffectiveSampleSize, int Samples, double ParetoK)
    {
        /// <summary>The effective sample size per 1000 draws.</summary>
        public double EffectiveSamplesPerThousand => 1000 * EffectiveSampleSize / Samples;
    }

    /// <summary>Diagnostics of a variational fit: ELBO with its standard error, importance-sampled log Z, ESS and k-hat.</summary>
    public static class VariationalDiagnostics
    {
        /// <summary>Draws <paramref name="samples"/> rows from the flow and evaluates them under the target.</summary>
        /// <param name="flow">The fitted flow q.</param>
        /// <param name="logTarget">The target's unnormalized log-density.</param>
        /// <param name="samples">Draws, at least 10. Default 10000.</param>
        /// <param name="seed">Seeds the draws.</param>
        /// <returns>The report.</returns>
        public static VariationalReport Evaluate(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, int samples = 10_000, int seed = 0)
        {
            ArgumentNullException.ThrowIfNull(flow);
            ArgumentNullException.ThrowIfNull(logTarget);
            if (samples < 10) throw new ArgumentOutOfRangeException(nameof(samples), samples, "Use at least 10 draws.");
            double[] logWeights = LogWeights(flow, logTarget, samples, seed);
            double mean = logWeights.Average();
            double variance = logWeights.Sum(v => (v - mean) * (v - mean)) / (samples - 1);
            double max = logWeights.Max();
            double sum = logWeights.Sum(v => Math.Exp(v - max));
            double sumSquares = logWeights.Sum(v => Math.Exp(2 * (v - max)));
            return new VariationalReport(mean, Math.Sqrt(variance / samples), max + Math.Log(sum / samples), sum * sum / sumSquares, samples,
                ParetoSmoothing.ParetoK(logWeights));
        }

        /// <summary>Draws from the flow and their log importance weights <c>log p(x) - log q(x)</c>.</summary>
        /// <param name="flow">The flow q.</param>
        /// <param name="logTarget">The target's unnormalized log-density.</param>
        /// <param name="samples">Draws.</param>
        /// <param name="seed">Seeds the draws.</param>
        /// <returns>The log weights.</returns>
        public static double[] LogWeights(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, int samples, int seed)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using Generator generator = new Generator().manual_seed(seed);
            (Tensor x, Tensor logQ) = flow.SampleWithLogDensity(samples, generator);
            return (logTarget(x) - logQ).to_type(ScalarType.Float64).data<double>().ToArray();
        }
    }
}
