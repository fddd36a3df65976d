namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>A Gaussian mixture with diagonal covariances: samples and exact log-densities.</summary>
    internal sealed class GaussianMixture : KnownDensity
    {
        private readonly double[] weights;
        private readonly double[][] means;
        private readonly double[][] scales;

        private GaussianMixture(string name, int trainRows, double[] weights, double[][] means, double[][] scales)
            : base(name, trainRows)
        {
            this.weights = weights;
            this.means = means;
            this.scales = scales;
        }

        public override int Dimension => means[0].Length;

        /// <summary>8 equal Gaussians of standard deviation 0.3 on a circle of radius 3.</summary>
        public static GaussianMixture Ring() => new("2-D ring of 8", 20_000,
            Enumerable.Repeat(1.0 / 8, 8).ToArray(),
            Enumerable.Range(0, 8).Select(k => new[] { 3 * Math.Cos(k * Math.PI / 4), 3 * Math.Sin(k * Math.PI / 4) }).ToArray(),
            Enumerable.Range(0, 8).Select(_ => new[] { 0.3, 0.3 }).ToArray());

        /// <summary>4 Gaussians in 10-D, weights 0.4/0.3/0.2/0.1, means in [-3, 3], per-feature scales from 0.2 to 2.</summary>
        public static GaussianMixture Unequal10D()
        {
            var random = new Random(10);
            return new GaussianMixture("10-D mixture of 4", 30_000, new[] { 0.4, 0.3, 0.2, 0.1 },
                Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 10).Select(_ => random.NextDouble() * 6 - 3).ToArray()).ToArray(),
                Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 10).Select(_ => 0.2 * Math.Pow(10, random.NextDouble())).ToArray()).ToArray());
        }

        /// <summary>
        /// 3 Gaussians in 6-D (weights 0.5/0.3/0.2, means in [-2, 2], scales 0.3 to 1) with the features then multiplied
        /// by 1e-3, 1e-1, 1, 10, 1e3 and 1, and the last one shifted by 50: a mix of scales and offsets.
        /// </summary>
        public static GaussianMixture MixedScales6D()
        {
            var random = new Random(6);
            double[] multiplier = { 1e-3, 1e-1, 1, 10, 1e3, 1 }, offset = { 0, 0, 0, 0, 0, 50 };
            return new GaussianMixture("6-D mixture of 3, scales 1e-3 to 1e3", 20_000, new[] { 0.5, 0.3, 0.2 },
                Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 6).Select(j => offset[j] + multiplier[j] * (random.NextDouble() * 4 - 2)).ToArray()).ToArray(),
                Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 6).Select(j => multiplier[j] * (0.3 + 0.7 * random.NextDouble())).ToArray()).ToArray());
        }

        public override float[] Sample(int count, int seed)
        {
            var random = new Random(seed);
            int d = Dimension;
            var values = new float[count * d];
            for (int i = 0; i < count; i++)
            {
                double u = random.NextDouble();
                int k = 0;
                while (k < weights.Length - 1 && (u -= weights[k]) > 0) k++;
                for (int j = 0; j < d; j++) values[i * d + j] = (float)(means[k][j] + scales[k][j] * Normal(random));
            }
            return values;
        }

        public override double LogDensity(ReadOnlySpan<float> row)
        {
            var terms = new double[weights.Length];
            for (int k = 0; k < weights.Length; k++)
            {
                double sum = Math.Log(weights[k]);
                for (int j = 0; j < row.Length; j++)
                {
                    double z = (row[j] - means[k][j]) / scales[k][j];
                    sum += -0.5 * z * z - Math.Log(scales[k][j]) - 0.5 * Math.Log(2 * Math.PI);
                }
                terms[k] = sum;
            }
            double max = terms.Max();
            return max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
        }
    }
}
