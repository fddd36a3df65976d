namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>
    /// The Pareto k-hat of importance weights (Vehtari, Simpson, Gelman, Yao and Gabry, "Pareto smoothed importance
    /// sampling"): a generalized Pareto distribution is fitted to the largest weights (Zhang and Stephens, 2009, with
    /// the weakly informative prior of the PSIS paper), and its shape k says how heavy the weights' tail is.
    /// k &lt; 0.5: the importance-sampling estimates are reliable and converge fast; 0.5 to 0.7: usable, slower;
    /// k &gt; 0.7: unreliable (q misses mass of p); k &gt; 1: the weights' mean does not even exist.
    /// </summary>
    public static class ParetoSmoothing
    {
        /// <summary>The k-hat of the given log importance weights.</summary>
        /// <param name="logWeights">Log weights, at least 10 finite values.</param>
        /// <returns>k-hat, or +infinity when the tail is degenerate.</returns>
        public static double ParetoK(IReadOnlyList<double> logWeights)
        {
            ArgumentNullException.ThrowIfNull(logWeights);
            double[] sorted = logWeights.Where(double.IsFinite).OrderBy(v => v).ToArray();
            int n = sorted.Length;
            if (n < 10) throw new ArgumentException("k-hat needs at least 10 finite log weights.", nameof(logWeights));
            double max = sorted[^1];
            int tailLength = (int)Math.Ceiling(Math.Min(0.2 * n, 3 * Math.Sqrt(n)));
            double cutoff = Math.Max(sorted[n - tailLength - 1] - max, Math.Log(double.Epsilon));
            double[] excess = sorted.Skip(n - tailLength).Select(v => Math.Exp(v - max) - Math.Exp(cutoff)).ToArray();
            if (excess[^1] <= 0) return double.PositiveInfinity;
            return FitShape(excess);
        }

        // Zhang and Stephens' posterior-mean estimate of the generalized Pareto shape for sorted exceedances x.
        private static double FitShape(double[] x)
        {
            int n = x.Length;
            const double priorBs = 3, priorK = 10;
            int m = 30 + (int)Math.Sqrt(n);
            double quartile = x[Math.Max(0, (int)(n / 4.0 + 0.5) - 1)];
            var bs = new double[m];
            var logLikelihood = new double[m];
            for (int j = 0; j < m; j++)
            {
                bs[j] = (1 - Math.Sqrt(m / (j + 1 - 0.5))) / (priorBs * quartile) + 1 / x[^1];
                double k = x.Average(v => Math.Log(1 - bs[j] * v));
                logLikelihood[j] = n * (Math.Log(bs[j] / k * -1) - k - 1);
            }
            var weights = new double[m];
            for (int j = 0; j < m; j++)
            {
                double sum = 0;
                for (int i = 0; i < m; i++) sum += Math.Exp(logLikelihood[i] - logLikelihood[j]);
                weights[j] = 1 / sum;
            }
            double total = 0, b = 0;
            for (int j = 0; j < m; j++)
            {
                if (!(weights[j] >= 10 * double.Epsilon) || !double.IsFinite(bs[j])) continue;
                total += weights[j];
                b += weights[j] * bs[j];
            }
            b /= total;
            double shape = x.Average(v => Math.Log(1 - b * v));
            return (n * shape + priorK * 0.5) / (n + priorK);
        }
    }
}
