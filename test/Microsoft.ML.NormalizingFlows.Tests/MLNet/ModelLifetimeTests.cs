using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>
    /// One immutable fitted model: copies of the flow are independent, further training returns a new transformer, and
    /// every use after Dispose throws ObjectDisposedException instead of reaching freed native memory.
    /// </summary>
    [TestClass]
    public sealed class ModelLifetimeTests
    {
        private static NormalizingFlowEstimator.Options Options(int epochs = 3) => new()
        {
            Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 2, HiddenUnits = 16, MaxEpochs = epochs, BatchSize = 64, Seed = 3, NumberOfThreads = 1,
        };

        private static IDataView Moons(MLContext ml, int rows, int seed) => Rows.ToDataView(ml, Synthetic.TwoMoons(rows, 0.1, seed), 2);

        [TestMethod]
        public void EveryUseAfterDisposeThrowsObjectDisposedAlsoThroughViewsAndEnginesMadeBefore()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Moons(ml, 400, 1);
            NormalizingFlowTransformer fitted = ml.Transforms.NormalizingFlow(Options()).Fit(data);
            using var stream = new MemoryStream();
            fitted.SaveTo(stream);
            stream.Position = 0;
            NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(ml, stream);
            SchemaDefinition definition = SchemaDefinition.Create(typeof(FeatureRow));
            definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
            foreach ((string name, NormalizingFlowTransformer model) in new[] { ("fitted", fitted), ("loaded", loaded) })
            {
                IDataView scored = model.Transform(data);
                PredictionEngine<FeatureRow, ScoredRow> engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(model, inputSchemaDefinition: definition);
                Assert.IsTrue(float.IsFinite(engine.Predict(new FeatureRow { Features = new[] { 0.5f, 0.2f } }).LogDensity), $"{name}: scores before");
                model.Dispose();
                model.Dispose(); // a second call does nothing

                void Throws(string what, Action action) =>
                    Assert.ThrowsExactly<ObjectDisposedException>(action, $"{name}: {what} after Dispose");
                Throws("reading a view made before", () => scored.GetColumn<float>("LogDensity").ToArray());
                Throws("a prediction engine made before", () => engine.Predict(new FeatureRow { Features = new[] { 0.5f, 0.2f } }));
                Throws("Transform", () => model.Transform(data));
                Throws("GetOutputSchema", () => model.GetOutputSchema(data.Schema));
                Throws("GetRowToRowMapper", () => model.GetRowToRowMapper(data.Schema));
                Throws("CopyFlow", () => model.CopyFlow());
                Throws("Generate", () => model.Generate(10));
                Throws("FeatureContributions", () => model.FeatureContributions(new[] { 0f, 0f }));
                Throws("ExportSamplingOnnx", () => model.ExportSamplingOnnx());
                Throws("ExportDensityOnnx", () => model.ExportDensityOnnx());
                Throws("SaveTo", () => model.SaveTo(new MemoryStream()));
                Throws("ScoringProvider", () => _ = model.ScoringProvider);
                Throws("Model.Save", () => ml.Model.Save(model, data.Schema, new MemoryStream()));
                Assert.IsTrue(model.TrainingHistory.Epochs.Count > 0, $"{name}: the history stays readable");
            }
        }

        [TestMethod]
        public void ACopyOfTheFlowIsIndependentTrainingAndDisposingItLeavesTheTransformerAsItWas()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Moons(ml, 400, 1);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(Options()).Fit(data);
            float[] before = Rows.LogDensities(model.Transform(data));
            float[] features = data.GetColumn<float[]>("Features").SelectMany(r => r).ToArray();

            using (NormalizingFlow copy = model.CopyFlow())
            {
                // The copy computes the transformer's densities (float32 TorchSharp against ONNX Runtime).
                using (NewDisposeScope())
                using (no_grad())
                {
                    float[] direct = copy.LogDensity(tensor(features, new long[] { before.Length, 2 })).data<float>().ToArray();
                    for (int i = 0; i < before.Length; i++) Assert.AreEqual(before[i], direct[i], 1e-4f, $"row {i}");
                }
                // Training the copy moves its parameters ...
                using var optimizer = optim.Adam(copy.parameters(), lr: 0.05);
                for (int step = 0; step < 20; step++)
                    using (NewDisposeScope())
                    {
                        optimizer.zero_grad();
                        copy.LogDensity(tensor(features, new long[] { before.Length, 2 })).mean().neg().backward();
                        optimizer.step();
                    }
                using (NewDisposeScope())
                using (no_grad())
                {
                    float[] moved = copy.LogDensity(tensor(features, new long[] { before.Length, 2 })).data<float>().ToArray();
                    Assert.IsTrue(moved.Zip(before).Max(p => Math.Abs(p.First - p.Second)) > 0.01, "the copy's densities changed");
                }
            }
            // ... but not the transformer's scores, its sampling or its next copy.
            CollectionAssert.AreEqual(before, Rows.LogDensities(model.Transform(data)), "scores after training and disposing the copy");
            Assert.AreEqual(10, model.Generate(10).GetColumn<float[]>("Features").Count(), "sampling still works");
            using NormalizingFlow again = model.CopyFlow();
            using (NewDisposeScope())
            using (no_grad())
            {
                float[] fresh = again.LogDensity(tensor(features, new long[] { before.Length, 2 })).data<float>().ToArray();
                for (int i = 0; i < before.Length; i++) Assert.AreEqual(before[i], fresh[i], 1e-4f, $"fresh copy, row {i}");
            }
        }

        [TestMethod]
        public void TrainingFurtherReturnsANewBetterTransformerAndLeavesTheStartAsItWas()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Moons(ml, 2000, 1), test = Moons(ml, 2000, 2);
            NormalizingFlowEstimator.Options first = Options(epochs: 1);
            first.LearningRate = 3e-4;
            using NormalizingFlowTransformer start = ml.Transforms.NormalizingFlow(first).Fit(data);
            float[] startScores = Rows.LogDensities(start.Transform(test));

            NormalizingFlowEstimator.Options more = Options(epochs: 15);
            using NormalizingFlowTransformer further = new NormalizingFlowEstimator(ml, more).Fit(data, start);
            CollectionAssert.AreEqual(startScores, Rows.LogDensities(start.Transform(test)), "the start's scores");
            double gain = Rows.LogDensities(further.Transform(test)).Average() - startScores.Average();
            Assert.IsTrue(gain > 0.1, $"held-out gain of the further training: {gain:F3} nats");

            var wide = Rows.ToDataView(ml, new float[300], 3);
            var e = Assert.ThrowsExactly<ArgumentException>(() => new NormalizingFlowEstimator(ml, more).Fit(wide, start));
            StringAssert.Contains(e.Message, "'Features' has 3 values");
            StringAssert.Contains(e.Message, "fitted on 2");
        }

        [TestMethod]
        public void AModelWithAnotherThresholdOwnsItsFlowAndOutlivesTheOriginal()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Moons(ml, 600, 1);
            var options = new NormalizingFlowAnomalyEstimator.Options { Flow = Options() };
            NormalizingFlowAnomalyModel model = new NormalizingFlowAnomalyEstimator(ml, options).Fit(data); // the public constructor
            float[] scores = model.Transform(data).GetColumn<float>("Score").ToArray();
            using NormalizingFlowAnomalyModel stricter = model.WithThreshold(model.Threshold + 1);
            model.Dispose();
            Assert.ThrowsExactly<ObjectDisposedException>(() => model.Transform(data).GetColumn<float>("Score").ToArray(), "the disposed model");
            CollectionAssert.AreEqual(scores, stricter.Transform(data).GetColumn<float>("Score").ToArray(), "the other model's scores");
        }
    }
}
