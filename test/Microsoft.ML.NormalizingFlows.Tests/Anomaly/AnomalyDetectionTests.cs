using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tests.Onnx;

namespace Microsoft.ML.NormalizingFlows.Tests.Anomaly
{
    /// <summary>A labelled row for anomaly evaluation: Label 1 = anomaly.</summary>
    public sealed class LabelledRow
    {
        /// <summary>The features.</summary>
        [VectorType(5)]
        public float[] Features = Array.Empty<float>();

        /// <summary>1 for an anomaly, 0 for a normal row.</summary>
        public float Label;
    }

    [TestClass]
    public sealed class AnomalyDetectionTests
    {
        // Normal rows lie near a curved 2-D manifold in 5-D: x2 = x1^2 / 2 - 1, the other three features small noise.
        // Anomalies are off the manifold: x2 moved by 1.5 to 3 away from the curve, inside the normal rows' range.
        private static List<LabelledRow> Rows(int normal, int anomalous, int seed)
        {
            var random = new Random(seed);
            var rows = new List<LabelledRow>();
            for (int i = 0; i < normal + anomalous; i++)
            {
                bool anomaly = i >= normal;
                double x1 = 1.5 * Synthetic.Normal(random);
                double offset = anomaly ? (random.Next(2) * 2 - 1) * (1.5 + 1.5 * random.NextDouble()) : 0.15 * Synthetic.Normal(random);
                rows.Add(new LabelledRow
                {
                    Features = new[] { (float)x1, (float)(x1 * x1 / 2 - 1 + offset), (float)(0.3 * Synthetic.Normal(random)), (float)(0.3 * Synthetic.Normal(random)), (float)(0.3 * Synthetic.Normal(random)) },
                    Label = anomaly ? 1 : 0,
                });
            }
            return rows;
        }

        private static NormalizingFlowAnomalyEstimator.Options Options(double contamination = 0.05) => new()
        {
            Contamination = contamination,
            Flow = new NormalizingFlowEstimator.Options
            {
                Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 4, HiddenUnits = 32, MaxEpochs = 30, BatchSize = 128,
                LearningRate = 3e-3, ValidationFraction = 0.2, Seed = 1, NumberOfThreads = 1,
            },
        };

        [TestMethod]
        public void TheFlowSeparatesOffManifoldRowsBetterThanRandomizedPca()
        {
            var ml = new MLContext(seed: 0);
            IDataView train = ml.Data.LoadFromEnumerable(Rows(4000, 0, seed: 1));
            IDataView test = ml.Data.LoadFromEnumerable(Rows(1000, 100, seed: 2));
            NormalizingFlowAnomalyModel flow = ml.AnomalyDetection.Trainers.NormalizingFlow(Options()).Fit(train);
            AnomalyDetectionMetrics flowMetrics = ml.AnomalyDetection.Evaluate(flow.Transform(test), falsePositiveCount: 10);

            var pca = ml.AnomalyDetection.Trainers.RandomizedPca(featureColumnName: "Features", rank: 2, seed: 1).Fit(train);
            AnomalyDetectionMetrics pcaMetrics = ml.AnomalyDetection.Evaluate(pca.Transform(test), falsePositiveCount: 10);
            Console.WriteLine($"AUC flow {flowMetrics.AreaUnderRocCurve:F4}, PCA {pcaMetrics.AreaUnderRocCurve:F4}; detection at 10 FP: flow {flowMetrics.DetectionRateAtFalsePositiveCount:F3}, PCA {pcaMetrics.DetectionRateAtFalsePositiveCount:F3}");
            Assert.IsTrue(flowMetrics.AreaUnderRocCurve > 0.95, $"flow AUC {flowMetrics.AreaUnderRocCurve}");
            Assert.IsTrue(flowMetrics.AreaUnderRocCurve > pcaMetrics.AreaUnderRocCurve, $"flow AUC {flowMetrics.AreaUnderRocCurve} <= PCA {pcaMetrics.AreaUnderRocCurve}");
        }

        [TestMethod]
        public void TheCalibratedThresholdFlagsTheRequestedFractionOfNormalRows()
        {
            var ml = new MLContext(seed: 0);
            IDataView train = ml.Data.LoadFromEnumerable(Rows(4000, 0, seed: 3));
            NormalizingFlowAnomalyModel model = ml.AnomalyDetection.Trainers.NormalizingFlow(Options(contamination: 0.05)).Fit(train);
            IDataView heldOutNormal = ml.Data.LoadFromEnumerable(Rows(4000, 0, seed: 4));
            foreach ((NormalizingFlowAnomalyModel m, double fraction) in new[] { (model, 0.05), (model.WithContamination(0.10), 0.10) })
            {
                bool[] flagged = m.Transform(heldOutNormal).GetColumn<bool>("PredictedLabel").ToArray();
                double share = flagged.Count(f => f) / (double)flagged.Length;
                Assert.AreEqual(fraction, share, 0.02, $"flagged {share:P1} of held-out normal rows for contamination {fraction}");
            }
            float[] scores = model.Transform(heldOutNormal).GetColumn<float>("Score").ToArray();
            bool[] labels = model.Transform(heldOutNormal).GetColumn<bool>("PredictedLabel").ToArray();
            for (int i = 0; i < scores.Length; i++) Assert.AreEqual(scores[i] > (float)model.Threshold, labels[i], $"row {i}");
        }

        [TestMethod]
        public void OnOneHundredFiftyRowsTheCrossFittedThresholdFlagsTheRequestedFraction()
        {
            // 150 training rows leave 30 held out: too few to calibrate on, so Auto cross-fits (5 folds, every row scored
            // out of fold). Over five seeds the flagged share of 5000 new normal rows averages within 2 points of 5%; one
            // seed's share has a sampling spread of about sqrt(0.05 * 0.95 / 150) = 1.8 points, so each is held to 5 points.
            var ml = new MLContext(seed: 0);
            IDataView newNormal = ml.Data.LoadFromEnumerable(Rows(5000, 0, seed: 40));
            var shares = new List<double>();
            for (int seed = 1; seed <= 5; seed++)
            {
                NormalizingFlowAnomalyEstimator.Options options = Options(contamination: 0.05);
                options.Flow.Seed = seed;
                options.Flow.NumberOfLayers = 2;
                options.Flow.HiddenUnits = 16;
                options.Flow.BatchSize = 32;
                NormalizingFlowAnomalyModel model = ml.AnomalyDetection.Trainers.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(Rows(150, 0, seed: 40 + seed)));
                Assert.AreEqual(150, model.HeldOutScores.Count, "every training row is scored out of fold");
                (double low, double high) = model.ThresholdInterval;
                Assert.IsTrue(low < model.Threshold && model.Threshold < high, $"interval {low} to {high} around {model.Threshold}");
                double share = model.Transform(newNormal).GetColumn<bool>("PredictedLabel").Count(f => f) / 5000.0;
                Assert.AreEqual(0.05, share, 0.05, $"seed {seed}: flagged {share:P1}");
                shares.Add(share);
                model.Dispose();
            }
            Assert.AreEqual(0.05, shares.Average(), 0.02, $"flagged shares {string.Join(", ", shares.Select(s => s.ToString("P1")))}");
        }

        [TestMethod]
        public void ASavedModelGivesTheSameScoresAndPredictions()
        {
            var ml = new MLContext(seed: 0);
            IDataView train = ml.Data.LoadFromEnumerable(Rows(1000, 0, seed: 5));
            var options = Options();
            options.Flow.MaxEpochs = 5;
            NormalizingFlowAnomalyModel model = ml.AnomalyDetection.Trainers.NormalizingFlow(options).Fit(train);
            IDataView test = ml.Data.LoadFromEnumerable(Rows(300, 30, seed: 6));
            string path = Path.Combine(Path.GetTempPath(), $"nf-anomaly-{Guid.NewGuid():N}.zip");
            ml.Model.Save(model, test.Schema, path);
            ITransformer loaded = new MLContext(seed: 1).Model.Load(path, out _);
            ModelZipTests.AssertSame(model.Transform(test).GetColumn<float>("Score").ToArray(), loaded.Transform(test).GetColumn<float>("Score").ToArray());
            CollectionAssert.AreEqual(model.Transform(test).GetColumn<bool>("PredictedLabel").ToArray(), loaded.Transform(test).GetColumn<bool>("PredictedLabel").ToArray());
            // ML.NET's evaluator accepts the reloaded model's columns and judges it as it judges the original.
            Assert.AreEqual(ml.AnomalyDetection.Evaluate(model.Transform(test)).AreaUnderRocCurve, ml.AnomalyDetection.Evaluate(loaded.Transform(test)).AreaUnderRocCurve, 1e-9);
            File.Delete(path);
        }

        [TestMethod]
        public void FeatureContributionsPointAtTheFeatureThatBreaksTheManifold()
        {
            var ml = new MLContext(seed: 0);
            var options = Options();
            options.Flow.MaxEpochs = 15;
            NormalizingFlowAnomalyModel model = ml.AnomalyDetection.Trainers.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(Rows(3000, 0, seed: 7)));
            // On the manifold in x1 and x2, but feature 3 is 8 standard deviations out.
            float[] contributions = model.Flow.FeatureContributions(new[] { 1f, -0.5f, 0f, 2.4f, 0f });
            int top = Array.IndexOf(contributions, contributions.Max());
            Assert.AreEqual(3, top, $"contributions {string.Join(", ", contributions)}");
        }

        [TestMethod]
        public void InvalidOptionsNameTheOption()
        {
            var ml = new MLContext(seed: 0);
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.AnomalyDetection.Trainers.NormalizingFlow(new NormalizingFlowAnomalyEstimator.Options { Contamination = 0.9 }));
            Assert.AreEqual("Contamination", e.ParamName);
            var options = new NormalizingFlowAnomalyEstimator.Options();
            options.Flow.ValidationFraction = 0;
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.AnomalyDetection.Trainers.NormalizingFlow(options));
            Assert.AreEqual("Flow.ValidationFraction", e.ParamName);
        }
    }
}
