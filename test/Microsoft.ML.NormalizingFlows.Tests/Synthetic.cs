namespace Microsoft.ML.NormalizingFlows.Tests
{
    /// <summary>Seeded generated data sets with known structure.</summary>
    internal static class Synthetic
    {
        public static double Normal(Random random)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }

        /// <summary>Two interleaved half circles with Gaussian noise (scikit-learn's make_moons), row-major [count, 2].</summary>
        public static float[] TwoMoons(int count, double noise, int seed)
        {
            var random = new Random(seed);
            var values = new float[count * 2];
            for (int i = 0; i < count; i++)
            {
                double t = Math.PI * random.NextDouble();
                bool upper = i % 2 == 0;
                double x = upper ? Math.Cos(t) : 1 - Math.Cos(t);
                double y = upper ? Math.Sin(t) : 0.5 - Math.Sin(t);
                values[2 * i] = (float)(x + noise * Normal(random));
                values[2 * i + 1] = (float)(y + noise * Normal(random));
            }
            return values;
        }

        /// <summary>A correlated Gaussian N(mean, L L^T) given by its mean and lower-triangular Cholesky factor.</summary>
        public sealed class Gaussian
        {
            private readonly double[] mean;
            private readonly double[,] cholesky;

            public Gaussian(double[] mean, double[,] cholesky)
            {
                this.mean = mean;
                this.cholesky = cholesky;
            }

            public int Dimension => mean.Length;

            public float[] Sample(int count, int seed)
            {
                var random = new Random(seed);
                int d = Dimension;
                var values = new float[count * d];
                var z = new double[d];
                for (int i = 0; i < count; i++)
                {
                    for (int j = 0; j < d; j++) z[j] = Normal(random);
                    for (int j = 0; j < d; j++)
                    {
                        double v = mean[j];
                        for (int k = 0; k <= j; k++) v += cholesky[j, k] * z[k];
                        values[i * d + j] = (float)v;
                    }
                }
                return values;
            }

            /// <summary>The exact log-density of one row.</summary>
            public double LogDensity(ReadOnlySpan<float> row)
            {
                int d = Dimension;
                var z = new double[d];
                double logDet = 0;
                for (int j = 0; j < d; j++)
                {
                    double v = row[j] - mean[j];
                    for (int k = 0; k < j; k++) v -= cholesky[j, k] * z[k];
                    z[j] = v / cholesky[j, j];
                    logDet += Math.Log(cholesky[j, j]);
                }
                return -0.5 * z.Sum(v => v * v) - logDet - 0.5 * d * Math.Log(2 * Math.PI);
            }
        }
    }
}
