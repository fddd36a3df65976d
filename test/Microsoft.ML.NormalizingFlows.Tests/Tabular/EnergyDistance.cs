namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    /// <summary>
    /// The energy distance of two samples, <c>2 E|X - Y| - E|X - X'| - E|Y - Y'|</c> (Szekely and Rizzo), and its
    /// permutation test: the p-value is the share of random relabellings of the pooled rows whose statistic is at
    /// least the observed one, counting the observed labelling.
    /// </summary>
    internal static class EnergyDistance
    {
        public static double Statistic(float[] x, float[] y, int d)
        {
            var pooled = new Pooled(x.Concat(y).ToArray(), d);
            return pooled.Statistic(Enumerable.Range(0, x.Length / d).ToArray(), x.Length / d, y.Length / d);
        }

        public static double PermutationPValue(float[] x, float[] y, int d, int permutations, int seed)
        {
            int n = x.Length / d, m = y.Length / d;
            var pooled = new Pooled(x.Concat(y).ToArray(), d);
            int[] order = Enumerable.Range(0, n + m).ToArray();
            double observed = pooled.Statistic(order[..n], n, m);
            var random = new Random(seed);
            int atLeast = 1;
            for (int p = 0; p < permutations; p++)
            {
                random.Shuffle(order);
                if (pooled.Statistic(order[..n], n, m) >= observed) atLeast++;
            }
            return atLeast / (double)(permutations + 1);
        }

        // Pairwise distances of the pooled rows with their row sums and total, so that a labelling's statistic needs only
        // the sum over pairs within X: with R_X the row sums over X, S_xy = R_X - 2 S_xx and S_yy = T - S_xx - S_xy.
        private sealed class Pooled
        {
            private readonly int count;
            private readonly float[] distances;
            private readonly double[] rowSums;
            private readonly double total;

            public Pooled(float[] rows, int d)
            {
                count = rows.Length / d;
                distances = new float[count * count];
                rowSums = new double[count];
                for (int i = 0; i < count; i++)
                    for (int j = i + 1; j < count; j++)
                    {
                        double sum = 0;
                        for (int k = 0; k < d; k++)
                        {
                            double delta = rows[i * d + k] - rows[j * d + k];
                            sum += delta * delta;
                        }
                        float distance = (float)Math.Sqrt(sum);
                        distances[i * count + j] = distances[j * count + i] = distance;
                        rowSums[i] += distance;
                        rowSums[j] += distance;
                        total += distance;
                    }
            }

            public double Statistic(int[] x, int n, int m)
            {
                double xx = 0, rowsX = 0;
                for (int a = 0; a < x.Length; a++)
                {
                    int offset = x[a] * count;
                    rowsX += rowSums[x[a]];
                    for (int b = a + 1; b < x.Length; b++) xx += distances[offset + x[b]];
                }
                double xy = rowsX - 2 * xx;
                double yy = total - xx - xy;
                return 2 * xy / ((double)n * m) - 2 * xx / ((double)n * n) - 2 * yy / ((double)m * m);
            }
        }
    }
}
