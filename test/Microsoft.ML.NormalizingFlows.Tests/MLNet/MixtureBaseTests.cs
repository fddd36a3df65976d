using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>The estimator with a Gaussian-mixture base on multimodal data: better than the standard normal at the same budget, and saved and loaded exactly.</summary>
    [TestClass]
    public sealed class MixtureBaseTests
    {
        // 8 Gaussians of standard deviation 0.3 on a circle of radius 3, with their exact mean log-density.
        private static (float[] Rows, double MeanLogDensity) Ring(int count, int seed)
        {
            var random = new Random(seed);
            var rows = new float[2 * count];
            double sum = 0;
            for (int i = 0; i < count; i++)
            {
                int k = random.Next(8);
                rows[2 * i] = (float)(3 * Math.Cos(k * Math.PI / 4) + 0.3 * Synthetic.Normal(random));
                rows[2 * i + 1] = (float)(3 * Math.Sin(k * Math.PI / 4) + 0.3 * Synthetic.Normal(random));
                double density = Enumerable.Range(0, 8).Sum(c =>
                {
                    double dx = (rows[2 * i] - 3 * Math.Cos(c * Math.PI / 4)) / 0.3, dy = (rows[2 * i + 1] - 3 * Math.Sin(c * Math.PI / 4)) / 0.3;
                    return Math.Exp(-0.5 * (dx * dx + dy * dy)) / (2 * Math.PI * 0.09 * 8);
                });
                sum += Math.Log(density);
            }
            return (rows, sum / count);
        }

        [TestMethod]
        public void AMixtureBaseFitsARingCloserThanTheStandardNormalAndSavesExactly()
        {
            var ml = new MLContext(seed: 0);
            (float[] train, _) = Ring(4000, 1);
            (float[] test, double truth) = Ring(2000, 2);
            double Gap(BaseDistributionKind kind, out NormalizingFlowTransformer model)
            {
                model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
                {
                    Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 3, HiddenUnits = 32, MaxEpochs = 8, BatchSize = 128, LearningRate = 3e-3, Seed = 2, NumberOfThreads = 1,
                    BaseDistribution = kind, MixtureComponents = 8,
                }).Fit(Rows.ToDataView(ml, train, 2));
                return truth - model.Transform(Rows.ToDataView(ml, test, 2)).GetColumn<float>("LogDensity").Average(v => (double)v);
            }
            double standard = Gap(BaseDistributionKind.StandardNormal, out NormalizingFlowTransformer plain);
            plain.Dispose();
            double mixture = Gap(BaseDistributionKind.GaussianMixture, out NormalizingFlowTransformer model);
            using (model)
            {
                Assert.IsTrue(mixture < 0.5 * standard, $"KL gap with the mixture base {mixture:F4}, with the standard normal {standard:F4}");
                using var stream = new MemoryStream();
                model.SaveTo(stream);
                stream.Position = 0;
                using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(ml, stream);
                IDataView rows = Rows.ToDataView(ml, test, 2);
                CollectionAssert.AreEqual(model.Transform(rows).GetColumn<float>("LogDensity").ToArray(), loaded.Transform(rows).GetColumn<float>("LogDensity").ToArray());
                using (NormalizingFlow rebuilt = loaded.CopyFlow())
                    Assert.IsInstanceOfType<Distributions.GaussianMixture>(rebuilt.BaseDistribution, "the rebuilt flow has the mixture base");

                // Generate draws from the mixture base, not from a standard normal pushed through the flow: its rows
                // have the moments of the flow's own draws (TorchSharp's Sample) and of the ring (radius 3).
                float[] generated = model.Generate(20_000, seed: 4).GetColumn<float[]>("Features").SelectMany(r => r).ToArray();
                float[] drawn;
                using (NormalizingFlow copy = model.CopyFlow())
                using (TorchSharp.torch.NewDisposeScope())
                using (var generator = new TorchSharp.torch.Generator().manual_seed(5))
                    drawn = copy.Sample(20_000, generator).data<float>().ToArray();
                double Radius(float[] rows) => Enumerable.Range(0, rows.Length / 2).Average(i => Math.Sqrt(rows[2 * i] * rows[2 * i] + rows[2 * i + 1] * rows[2 * i + 1]));
                double Spread(float[] rows, int j) => Math.Sqrt(Enumerable.Range(0, rows.Length / 2).Average(i => rows[2 * i + j] * rows[2 * i + j]));
                Assert.AreEqual(Radius(drawn), Radius(generated), 0.03, "mean radius of generated and drawn rows");
                Assert.AreEqual(3, Radius(generated), 0.1, "mean radius of generated rows");
                for (int j = 0; j < 2; j++) Assert.AreEqual(Spread(drawn, j), Spread(generated, j), 0.05, $"spread of coordinate {j}");
            }
        }
    }
}
