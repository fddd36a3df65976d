using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    [TestClass]
    public sealed class StreamingFitTests
    {
        private static NormalizingFlowEstimator.Options Options(TrainingDataCache cache, int epochs) => new()
        {
            NumberOfLayers = 3, HiddenUnits = 32, MaxEpochs = epochs, BatchSize = 64, LearningRate = 3e-3, Seed = 5, NumberOfThreads = 1,
            TrainingData = cache, ShuffleBufferSize = 256, EarlyStoppingPatience = 0,
        };

        [TestMethod]
        public void StreamingThroughASmallBufferFitsAsWellAsInMemoryAndIsDeterministic()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Rows.ToDataView(ml, Synthetic.TwoMoons(2000, 0.1, seed: 1), 2);
            IDataView test = Rows.ToDataView(ml, Synthetic.TwoMoons(2000, 0.1, seed: 2), 2);
            using NormalizingFlowTransformer memory = ml.Transforms.NormalizingFlow(Options(TrainingDataCache.Memory, 15)).Fit(data);
            using NormalizingFlowTransformer streamed = ml.Transforms.NormalizingFlow(Options(TrainingDataCache.Stream, 15)).Fit(data);
            using NormalizingFlowTransformer again = ml.Transforms.NormalizingFlow(Options(TrainingDataCache.Stream, 15)).Fit(data);
            double memoryLl = Rows.LogDensities(memory.Transform(test)).Average();
            double streamedLl = Rows.LogDensities(streamed.Transform(test)).Average();
            Assert.AreEqual(memoryLl, streamedLl, 0.1, "test log-likelihood of the streamed fit against the in-memory fit");
            CollectionAssert.AreEqual(Rows.LogDensities(streamed.Transform(test)), Rows.LogDensities(again.Transform(test)), "a seed gives identical streamed models");
            Assert.IsTrue(streamed.HeldOutLogDensities.Count is > 120 and < 280, $"about 10% of the rows held out ({streamed.HeldOutLogDensities.Count})");
        }

        [TestMethod]
        public void AStreamedFloat64FitLearnsFromItsReusedBatchesAsTheFloat32FitDoes()
        {
            // Streamed batches are views of one reused tensor (converted for a float64 flow): a stale or unconverted
            // batch would leave the float64 fit far behind the float32 one on the same rows and seed.
            var ml = new MLContext(seed: 0);
            IDataView data = Rows.ToDataView(ml, Synthetic.TwoMoons(2000, 0.1, seed: 1), 2);
            IDataView test = Rows.ToDataView(ml, Synthetic.TwoMoons(2000, 0.1, seed: 2), 2);
            NormalizingFlowEstimator.Options single = Options(TrainingDataCache.Stream, 15), @double = Options(TrainingDataCache.Stream, 15);
            @double.Precision = FlowPrecision.Double;
            using NormalizingFlowTransformer a = ml.Transforms.NormalizingFlow(single).Fit(data);
            using NormalizingFlowTransformer b = ml.Transforms.NormalizingFlow(@double).Fit(data);
            double singleLl = Rows.LogDensities(a.Transform(test)).Average(), doubleLl = Rows.LogDensities(b.Transform(test)).Average();
            Assert.AreEqual(singleLl, doubleLl, 0.1, "test log-likelihood of the float64 streamed fit against the float32 one");
            Assert.IsTrue(doubleLl > -1.5, $"the fits learned the moons ({doubleLl:F3}; a full Gaussian fitted to them scores about -1.9)");
        }

        [TestMethod]
        public void StreamingFitLeavesNoLiveTensorsBehind()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = Rows.ToDataView(ml, Synthetic.TwoMoons(2000, 0.1, seed: 3), 2);
            long Growth(int epochs)
            {
                using var scope = torch.NewDisposeScope();
                long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                using (NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(Options(TrainingDataCache.Stream, epochs)).Fit(data)) { }
                return DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
            }
            Growth(1);
            Assert.AreEqual(Growth(2), Growth(20), "live tensors grew with the number of streamed steps (about 30 per epoch)");
        }

        [TestMethod]
        public void StreamingFitOfATableWithALabelGeneratesEachClass()
        {
            var ml = new MLContext(seed: 0);
            List<Tabular.ClassRow> rows = Tabular.TableRows.Classes(3000, seed: 4);
            NormalizingFlowEstimator.Options options = Options(TrainingDataCache.Stream, 10);
            options.LabelColumnName = nameof(Tabular.ClassRow.Class);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(rows));
            float[][] generated = ml.Data.CreateEnumerable<Tabular.ClassRow>(model.Generate(1000, seed: 1, label: "c2"), false).Select(r => r.Features).ToArray();
            Assert.AreEqual(6.0, generated.Average(r => r[0]), 0.3, "class c2's first mean");
            Assert.IsTrue(model.HeldOutLogDensities.Count > 200);
        }
    }
}
