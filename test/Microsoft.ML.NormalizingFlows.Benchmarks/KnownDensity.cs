namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>A generated data set whose density is known exactly: seeded samples and the true log-density of a row.</summary>
    internal abstract class KnownDensity
    {
        protected KnownDensity(string name, int trainRows)
        {
            Name = name;
            TrainRows = trainRows;
        }

        public string Name { get; }

        /// <summary>The benchmark's default number of training rows.</summary>
        public int TrainRows { get; }

        public abstract int Dimension { get; }

        /// <summary>The zoo's data sets, in table order.</summary>
        public static KnownDensity[] All() => new KnownDensity[]
        {
            GaussianMixture.Ring(), GaussianMixture.Unequal10D(), new CurvedSheet(), new StudentT(), GaussianMixture.MixedScales6D(),
        };

        /// <summary><paramref name="count"/> rows, row-major.</summary>
        public abstract float[] Sample(int count, int seed);

        /// <summary>The exact log-density of one row, in data units.</summary>
        public abstract double LogDensity(ReadOnlySpan<float> row);

        /// <summary>A standard-normal draw (Box-Muller).</summary>
        protected static double Normal(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        protected static double LogNormal(double x, double mean, double scale)
        {
            double z = (x - mean) / scale;
            return -0.5 * z * z - Math.Log(scale) - 0.5 * Math.Log(2 * Math.PI);
        }
    }

    /// <summary>
    /// A curved 2-D sheet in 5-D: x1, x2 standard normal; x3 = 1.5 sin(2 x1), x4 = 0.5 x1 x2 and x5 = cos(1.5 x2), each
    /// plus Gaussian noise of standard deviation 0.05. The density is p(x1) p(x2) times the three noise densities.
    /// </summary>
    internal sealed class CurvedSheet : KnownDensity
    {
        private const double Noise = 0.05;

        public CurvedSheet() : base("5-D curved sheet (2-D manifold, noise 0.05)", 20_000)
        {
        }

        public override int Dimension => 5;

        public override float[] Sample(int count, int seed)
        {
            var random = new Random(seed);
            var values = new float[count * 5];
            Span<double> surface = stackalloc double[3];
            for (int i = 0; i < count; i++)
            {
                double x1 = Normal(random), x2 = Normal(random);
                Surface(x1, x2, surface);
                values[i * 5] = (float)x1;
                values[i * 5 + 1] = (float)x2;
                for (int k = 0; k < 3; k++) values[i * 5 + 2 + k] = (float)(surface[k] + Noise * Normal(random));
            }
            return values;
        }

        public override double LogDensity(ReadOnlySpan<float> row)
        {
            Span<double> surface = stackalloc double[3];
            Surface(row[0], row[1], surface);
            double sum = LogNormal(row[0], 0, 1) + LogNormal(row[1], 0, 1);
            for (int k = 0; k < 3; k++) sum += LogNormal(row[2 + k], surface[k], Noise);
            return sum;
        }

        private static void Surface(double x1, double x2, Span<double> output)
        {
            output[0] = 1.5 * Math.Sin(2 * x1);
            output[1] = 0.5 * x1 * x2;
            output[2] = Math.Cos(1.5 * x2);
        }
    }

    /// <summary>
    /// Heavy tails: a 4-D multivariate Student t with 3 degrees of freedom, mean 0 and a fixed correlated scale matrix
    /// L Lᵀ (L lower triangular, seeded). Variance exists, the fourth moment does not.
    /// </summary>
    internal sealed class StudentT : KnownDensity
    {
        private const int D = 4;
        private const double Nu = 3;
        private readonly double[,] cholesky = new double[D, D];
        private readonly double logNormalizer;

        public StudentT() : base("4-D Student t (3 degrees of freedom)", 20_000)
        {
            var random = new Random(4);
            double logDet = 0;
            for (int i = 0; i < D; i++)
            {
                for (int j = 0; j < i; j++) cholesky[i, j] = random.NextDouble() - 0.5;
                cholesky[i, i] = 0.5 + random.NextDouble();
                logDet += Math.Log(cholesky[i, i]);
            }
            // log Γ((ν+d)/2) − log Γ(ν/2) for even d: the product ν/2 (ν/2 + 1) ... (ν/2 + d/2 − 1).
            double logGammaRatio = 0;
            for (int k = 0; k < D / 2; k++) logGammaRatio += Math.Log(Nu / 2 + k);
            logNormalizer = logGammaRatio - D / 2.0 * Math.Log(Nu * Math.PI) - logDet;
        }

        public override int Dimension => D;

        public override float[] Sample(int count, int seed)
        {
            var random = new Random(seed);
            var values = new float[count * D];
            Span<double> z = stackalloc double[D];
            for (int i = 0; i < count; i++)
            {
                double chiSquare = 0;
                for (int k = 0; k < Nu; k++)
                {
                    double g = Normal(random);
                    chiSquare += g * g;
                }
                double factor = 1 / Math.Sqrt(chiSquare / Nu);
                for (int k = 0; k < D; k++) z[k] = Normal(random);
                for (int r = 0; r < D; r++)
                {
                    double sum = 0;
                    for (int c = 0; c <= r; c++) sum += cholesky[r, c] * z[c];
                    values[i * D + r] = (float)(factor * sum);
                }
            }
            return values;
        }

        public override double LogDensity(ReadOnlySpan<float> row)
        {
            // δ = |L⁻¹ x|², by forward substitution.
            Span<double> w = stackalloc double[D];
            double delta = 0;
            for (int r = 0; r < D; r++)
            {
                double sum = row[r];
                for (int c = 0; c < r; c++) sum -= cholesky[r, c] * w[c];
                w[r] = sum / cholesky[r, r];
                delta += w[r] * w[r];
            }
            return logNormalizer - (Nu + D) / 2 * Math.Log(1 + delta / Nu);
        }
    }
}
