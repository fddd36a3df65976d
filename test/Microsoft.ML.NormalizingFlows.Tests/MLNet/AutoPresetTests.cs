using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>FlowPreset.Auto: deterministic, a mixture base on mixture data, the chosen model fitted as its named preset would be, and the small-data regime.</summary>
    [TestClass]
    public sealed class AutoPresetTests
    {
        // 8 Gaussians of standard deviation 0.3 on a circle of radius 3.
        private static float[] Ring(int count, int seed)
        {
            var random = new Random(seed);
            var rows = new float[2 * count];
            for (int i = 0; i < count; i++)
            {
                int k = random.Next(8);
                rows[2 * i] = (float)(3 * Math.Cos(k * Math.PI / 4) + 0.3 * Synthetic.Normal(random));
                rows[2 * i + 1] = (float)(3 * Math.Sin(k * Math.PI / 4) + 0.3 * Synthetic.Normal(random));
            }
            return rows;
        }

        private static NormalizingFlowEstimator.Options Small(int seed) => new()
        {
            NumberOfLayers = 3, HiddenUnits = 32, MaxEpochs = 12, BatchSize = 128, LearningRate = 3e-3, Seed = seed, NumberOfThreads = 1,
        };

        [TestMethod]
        public void AutoPicksAMixtureBaseOnMixtureDataDeterministicallyAndFitsItAsThatPresetWould()
        {
            var ml = new MLContext(seed: 0);
            IDataView train = Rows.ToDataView(ml, Ring(3000, 1), 2);
            IDataView test = Rows.ToDataView(ml, Ring(1000, 2), 2);
            using NormalizingFlowTransformer first = ml.Transforms.NormalizingFlow(Small(3)).Fit(train);
            using NormalizingFlowTransformer second = ml.Transforms.NormalizingFlow(Small(3)).Fit(train);
            NormalizingFlows.Training.ModelChoice choice = first.TrainingHistory.Choice ?? throw new AssertFailedException("Auto reports its choice");
            Assert.AreEqual(3, choice.Candidates.Count, choice.Reason);
            StringAssert.Contains(choice.Chosen, "mixture base", choice.Reason);
            double standard = choice.Candidates.Single(c => c.Description.Contains("standard-normal")).ValidationLogLikelihood;
            Assert.IsTrue(choice.Candidates.Where(c => c.Description.Contains("mixture")).Max(c => c.ValidationLogLikelihood) > standard, choice.Reason);
            float[] scores = first.Transform(test).GetColumn<float>("LogDensity").ToArray();
            CollectionAssert.AreEqual(scores, second.Transform(test).GetColumn<float>("LogDensity").ToArray(), "same seed, same model");
            Assert.AreEqual(choice, second.TrainingHistory.Choice! with { Candidates = choice.Candidates }, "same choice");
            CollectionAssert.AreEqual(choice.Candidates.Select(c => c.ValidationLogLikelihood).ToArray(),
                second.TrainingHistory.Choice!.Candidates.Select(c => c.ValidationLogLikelihood).ToArray(), "same short fits");

            // The chosen model is the named preset's fit with the chosen base: Auto adds a choice, not a different fit.
            NormalizingFlowEstimator.Options named = Small(3);
            named.Preset = FlowPreset.NeuralSplineCoupling;
            named.BaseDistribution = BaseDistributionKind.GaussianMixture;
            named.MixtureComponents = choice.Chosen.StartsWith("spline coupling, 8-", StringComparison.Ordinal) ? 8 : 4;
            using NormalizingFlowTransformer direct = ml.Transforms.NormalizingFlow(named).Fit(train);
            CollectionAssert.AreEqual(scores, direct.Transform(test).GetColumn<float>("LogDensity").ToArray());
            Assert.IsNull(direct.TrainingHistory.Choice, "a named preset makes no choice");

            // The choice is saved with the model.
            using var stream = new MemoryStream();
            first.SaveTo(stream);
            stream.Position = 0;
            using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(ml, stream);
            Assert.AreEqual(choice.Chosen, loaded.TrainingHistory.Choice?.Chosen);
            CollectionAssert.AreEqual(choice.Candidates.ToArray(), loaded.TrainingHistory.Choice!.Candidates.ToArray());
        }

        [TestMethod]
        public void OnTwoHundredRowsAutoBeatsThePlainSplineFit()
        {
            // Two moons, 200 rows (180 for training: one step per epoch at the default batch of 256). Auto's small-data
            // regime (batches of 32, weight decay 0.1) and its base choice against the plain spline coupling fit with the
            // same budget, on 4000 held-out rows, three seeds: better on each.
            var ml = new MLContext(seed: 0);
            for (int seed = 1; seed <= 3; seed++)
            {
                IDataView train = Rows.ToDataView(ml, Synthetic.TwoMoons(200, 0.1, seed), 2);
                IDataView test = Rows.ToDataView(ml, Synthetic.TwoMoons(4000, 0.1, 100 + seed), 2);
                double HeldOut(FlowPreset preset, out NormalizingFlows.Training.TrainingHistory history)
                {
                    using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
                    {
                        Preset = preset, MaxEpochs = 40, Seed = seed, NumberOfThreads = 1,
                    }).Fit(train);
                    history = model.TrainingHistory;
                    return model.Transform(test).GetColumn<float>("LogDensity").Average(v => (double)v);
                }
                double auto = HeldOut(FlowPreset.Auto, out NormalizingFlows.Training.TrainingHistory autoHistory);
                double plain = HeldOut(FlowPreset.NeuralSplineCoupling, out _);
                StringAssert.Contains(autoHistory.Choice!.Reason, "small data (180 training rows, 1 step(s) per epoch at BatchSize 256): batches of 32 rows and weight decay 0.1");
                Assert.IsTrue(auto > plain, $"seed {seed}: Auto {auto:F4} ({autoHistory.Choice.Chosen}), plain {plain:F4}");
            }
        }
    }
}
