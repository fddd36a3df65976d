using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>A target of variational inference: an unnormalized log-density with its exact log normalizing constant.</summary>
    /// <param name="Name">The target's name.</param>
    /// <param name="Dimension">d.</param>
    /// <param name="LogDensity">The unnormalized log-density, <c>[N, d]</c> to <c>[N]</c>, differentiable; any floating type.</param>
    /// <param name="LogNormalizer">The exact log Z: <c>log of the integral of exp(LogDensity)</c>.</param>
    public sealed record VariationalTarget(string Name, int Dimension, Func<Tensor, Tensor> LogDensity, double LogNormalizer);

    /// <summary>
    /// The benchmark targets of NormalizingFlows.jl and the flow literature, each with its exact log Z, so that ELBO
    /// gaps and log Z estimates can be judged by numbers rather than by scatter plots.
    /// </summary>
    public static class Targets
    {
        private static readonly double LogTwoPi = Math.Log(2 * Math.PI);

        /// <summary>
        /// The banana: <c>x1 ~ N(0, v)</c>, <c>x2 | x1 ~ N(b (x1^2 - v), 1)</c>, unnormalized as
        /// <c>-x1^2 / (2 v) - (x2 - b (x1^2 - v))^2 / 2</c>; <c>log Z = log(2 pi sqrt(v))</c>.
        /// </summary>
        /// <param name="variance">v, greater than 0. Default 4.</param>
        /// <param name="curvature">b. Default 0.25.</param>
        /// <returns>The target.</returns>
        public static VariationalTarget Banana(double variance = 4, double curvature = 0.25)
        {
            if (!(variance > 0)) throw new ArgumentOutOfRangeException(nameof(variance), variance, "Must be greater than 0.");
            return new VariationalTarget("banana", 2, x =>
            {
                Tensor x1 = x[.., 0], x2 = x[.., 1];
                return -x1.square() / (2 * variance) - (x2 - curvature * (x1.square() - variance)).square() / 2;
            }, LogTwoPi + 0.5 * Math.Log(variance));
        }

        /// <summary>
        /// Neal's funnel in d dimensions: <c>v ~ N(0, s^2)</c>, <c>x_i | v ~ N(0, exp(v))</c> for i = 2..d, unnormalized as
        /// <c>-v^2 / (2 s^2) - sum(x_i^2 exp(-v) / 2 + v / 2)</c>; <c>log Z = (d / 2) log(2 pi) + log s</c>.
        /// </summary>
        /// <param name="dimension">d, at least 2. Default 2.</param>
        /// <param name="scale">s, greater than 0. Default 3.</param>
        /// <returns>The target.</returns>
        public static VariationalTarget Funnel(int dimension = 2, double scale = 3)
        {
            if (dimension < 2) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The funnel needs at least 2 dimensions.");
            return new VariationalTarget("funnel", dimension, x =>
            {
                Tensor v = x[.., 0];
                Tensor rest = x.narrow(1, 1, dimension - 1);
                return -v.square() / (2 * scale * scale) - (rest.square().sum(1) * (-v).exp() / 2 + (dimension - 1) * v / 2);
            }, dimension / 2.0 * LogTwoPi + Math.Log(scale));
        }

        /// <summary>
        /// A 4-mode cross: an equal mixture of Gaussians at (+-1.5, 0) with standard deviations (1, 0.3) and at (0, +-1.5)
        /// with (0.3, 1), arms that meet in a plus. Normalized: <c>log Z = 0</c>.
        /// </summary>
        /// <returns>The target.</returns>
        public static VariationalTarget Cross()
        {
            double[][] means = { new[] { 1.5, 0.0 }, new[] { -1.5, 0.0 }, new[] { 0.0, 1.5 }, new[] { 0.0, -1.5 } };
            double[][] scales = { new[] { 1.0, 0.3 }, new[] { 1.0, 0.3 }, new[] { 0.3, 1.0 }, new[] { 0.3, 1.0 } };
            return new VariationalTarget("cross", 2, x =>
            {
                Tensor[] components = means.Select((m, k) =>
                {
                    Tensor z0 = (x[.., 0] - m[0]) / scales[k][0], z1 = (x[.., 1] - m[1]) / scales[k][1];
                    return -(z0.square() + z1.square()) / 2 - Math.Log(scales[k][0] * scales[k][1]) - LogTwoPi + Math.Log(0.25);
                }).ToArray();
                return stack(components, 1).logsumexp(1);
            }, 0);
        }

        /// <summary>
        /// A warped Gaussian: <c>x1 ~ N(0, s1^2)</c>, <c>x2 - c sin(a x1) ~ N(0, s2^2)</c> (a shear, volume preserving),
        /// unnormalized as <c>-(x1 / s1)^2 / 2 - ((x2 - c sin(a x1)) / s2)^2 / 2</c>; <c>log Z = log(2 pi s1 s2)</c>.
        /// </summary>
        /// <param name="amplitude">c. Default 1.5.</param>
        /// <param name="frequency">a. Default 1.</param>
        /// <returns>The target.</returns>
        public static VariationalTarget WarpedGaussian(double amplitude = 1.5, double frequency = 1)
        {
            const double s1 = 2, s2 = 0.4;
            return new VariationalTarget("warped Gaussian", 2, x =>
            {
                Tensor x1 = x[.., 0], x2 = x[.., 1];
                return -(x1 / s1).square() / 2 - ((x2 - amplitude * (frequency * x1).sin()) / s2).square() / 2;
            }, LogTwoPi + Math.Log(s1 * s2));
        }

        /// <summary>
        /// A correlated 2-D Gaussian with mean <c>(1, -1)</c>, standard deviations <c>(1.5, 0.5)</c> and correlation 0.8,
        /// unnormalized as <c>-(x - mu)' S^-1 (x - mu) / 2</c>; <c>log Z = log(2 pi) + log det(S) / 2</c>.
        /// </summary>
        /// <returns>The target with its mean and covariance.</returns>
        public static (VariationalTarget Target, double[] Mean, double[,] Covariance) CorrelatedGaussian()
        {
            double[] mean = { 1, -1 };
            double s1 = 1.5, s2 = 0.5, rho = 0.8;
            var covariance = new[,] { { s1 * s1, rho * s1 * s2 }, { rho * s1 * s2, s2 * s2 } };
            double det = covariance[0, 0] * covariance[1, 1] - covariance[0, 1] * covariance[1, 0];
            double i00 = covariance[1, 1] / det, i11 = covariance[0, 0] / det, i01 = -covariance[0, 1] / det;
            var target = new VariationalTarget("correlated Gaussian", 2, x =>
            {
                Tensor a = x[.., 0] - mean[0], b = x[.., 1] - mean[1];
                return -(i00 * a.square() + 2 * i01 * a * b + i11 * b.square()) / 2;
            }, LogTwoPi + 0.5 * Math.Log(det));
            return (target, mean, covariance);
        }

        /// <summary>All zoo targets with default settings.</summary>
        /// <returns>Banana, funnel, cross, warped Gaussian and correlated Gaussian.</returns>
        public static IReadOnlyList<VariationalTarget> All() =>
            new[] { Banana(), Funnel(), Cross(), WarpedGaussian(), CorrelatedGaussian().Target };
    }
}
