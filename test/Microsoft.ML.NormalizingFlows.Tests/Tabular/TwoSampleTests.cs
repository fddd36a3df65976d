using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    [TestClass]
    public sealed class TwoSampleTests
    {
        private const int Dimension = 5;

        // A 5-D mixture of three correlated Gaussians with weights 0.5, 0.3, 0.2.
        private static float[] Mixture(int count, int seed)
        {
            var random = new Random(seed);
            double[][] means = { new double[] { 0, 0, 0, 0, 0 }, new double[] { 4, -3, 2, 0, 1 }, new double[] { -3, 3, 0, 4, -2 } };
            var values = new float[count * Dimension];
            for (int i = 0; i < count; i++)
            {
                double u = random.NextDouble();
                int c = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
                double shared = Synthetic.Normal(random);
                for (int j = 0; j < Dimension; j++)
                    values[i * Dimension + j] = (float)(means[c][j] + (0.6 + 0.2 * c) * (0.8 * Synthetic.Normal(random) + 0.6 * shared * (j % 2 == 0 ? 1 : -1)));
            }
            return values;
        }

        [TestMethod]
        public void EnergyDistanceTestDoesNotSeparateFlowSamplesButSeparatesAGaussianBaseline()
        {
            var ml = new MLContext(seed: 0);
            float[] train = Mixture(6000, seed: 1);
            float[] heldOut = Mixture(2000, seed: 2);
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 40);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(Rows.ToDataView(ml, train, Dimension));
            Console.WriteLine($"choice: {model.TrainingHistory.Choice?.Reason}");
            float[] flowRows = model.Generate(2000, seed: 3).GetColumn<float[]>("Features").SelectMany(r => r).ToArray();
            float[] gaussianRows = GaussianBaseline(train, 2000, seed: 4);

            double flowP = EnergyDistance.PermutationPValue(flowRows, heldOut, Dimension, permutations: 199, seed: 5);
            double gaussianP = EnergyDistance.PermutationPValue(gaussianRows, heldOut, Dimension, permutations: 199, seed: 5);
            Console.WriteLine($"energy-distance permutation p: flow {flowP:F3}, single Gaussian {gaussianP:F3}");
            Assert.IsTrue(flowP > 0.01, $"the test separates flow samples from real rows (p = {flowP})");
            Assert.IsTrue(gaussianP < 0.01, $"the test does not separate the Gaussian baseline (p = {gaussianP})");
        }

        [TestMethod]
        public void EnergyDistanceIsZeroForIdenticalSamplesAndPositiveForShiftedOnes()
        {
            float[] a = Mixture(300, seed: 7);
            float[] shifted = a.Select(v => v + 1f).ToArray();
            Assert.AreEqual(0, EnergyDistance.Statistic(a, a, Dimension), 1e-9);
            Assert.IsTrue(EnergyDistance.Statistic(a, shifted, Dimension) > 0.5);
            Assert.IsTrue(EnergyDistance.PermutationPValue(a, shifted, Dimension, permutations: 99, seed: 1) < 0.02);
        }

        // Samples from N(mean, covariance) of the training rows (a Cholesky factor of the sample covariance).
        private static float[] GaussianBaseline(float[] train, int count, int seed)
        {
            int n = train.Length / Dimension;
            var mean = new double[Dimension];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < Dimension; j++) mean[j] += train[i * Dimension + j] / (double)n;
            var covariance = new double[Dimension, Dimension];
            for (int i = 0; i < n; i++)
                for (int a = 0; a < Dimension; a++)
                    for (int b = 0; b < Dimension; b++)
                        covariance[a, b] += (train[i * Dimension + a] - mean[a]) * (train[i * Dimension + b] - mean[b]) / (n - 1);
            var cholesky = new double[Dimension, Dimension];
            for (int a = 0; a < Dimension; a++)
                for (int b = 0; b <= a; b++)
                {
                    double sum = covariance[a, b];
                    for (int k = 0; k < b; k++) sum -= cholesky[a, k] * cholesky[b, k];
                    cholesky[a, b] = a == b ? Math.Sqrt(sum) : sum / cholesky[b, b];
                }
            return new Synthetic.Gaussian(mean, cholesky).Sample(count, seed);
        }
    }
}
