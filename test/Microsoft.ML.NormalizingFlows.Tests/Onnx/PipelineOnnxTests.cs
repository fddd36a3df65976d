using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tests.MLNet;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>Whole-pipeline ONNX: ML.NET's export of the prefix with the flow's graph appended.</summary>
    [TestClass]
    public sealed class PipelineOnnxTests
    {
        [TestMethod]
        public void ThePipelineGraphScoresRawColumnsLikeTheTransformer()
        {
            var ml = new MLContext(seed: 0);
            List<PointRow> points = PipelineTests.Points(300, 3);
            IDataView data = ml.Data.LoadFromEnumerable(points);
            var model = ml.Transforms.Concatenate("Features", "X", "Y")
                .Append(ml.Transforms.NormalizeMinMax("Features"))
                .Append(ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
                {
                    NumberOfLayers = 3, HiddenUnits = 16, MaxEpochs = 5, Seed = 2, NumberOfThreads = 1, LatentColumnName = "Latent",
                }))
                .Fit(data);
            using var stream = new MemoryStream();
            ml.Model.ConvertToOnnxWithFlow(model, data, stream);
            byte[] onnx = stream.ToArray();

            using var session = new InferenceSession(onnx, new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR });
            using OrtValue x = OrtValue.CreateTensorValueFromMemory(points.Select(p => p.X).ToArray(), new long[] { points.Count, 1 });
            using OrtValue y = OrtValue.CreateTensorValueFromMemory(points.Select(p => p.Y).ToArray(), new long[] { points.Count, 1 });
            using var results = session.Run(new RunOptions(), new[] { "X", "Y" }, new[] { x, y }, new[] { "LogDensity.output", "Latent.output" });
            float[] onnxLogDensity = results[0].GetTensorDataAsSpan<float>().ToArray();
            float[] onnxLatent = results[1].GetTensorDataAsSpan<float>().ToArray();

            IDataView scored = model.Transform(data);
            OnnxParityTests.AssertClose("pipeline log-density", scored.GetColumn<float>("LogDensity").ToArray(), onnxLogDensity);
            OnnxParityTests.AssertClose("pipeline latent", scored.GetColumn<float[]>("Latent").SelectMany(v => v).ToArray(), onnxLatent);
            if (!OnnxChecker.Available) return;
            Assert.IsNull(OnnxChecker.Check(onnx, fullCheck: false));
            // ML.NET's own export can fail the checker's shape inference (its slot-name LabelEncoder); the flow's part must
            // add no failure of its own.
            string? full = OnnxChecker.Check(onnx);
            if (full is not null)
            {
                using var prefix = new MemoryStream();
                ml.Model.ConvertToOnnx(new TransformerChain<ITransformer>(model.Take(2).ToArray()), data, prefix);
                string? mlnetOwn = OnnxChecker.Check(prefix.ToArray());
                Assert.IsNotNull(mlnetOwn, "only the combined graph fails the checker: " + full);
                Assert.AreEqual(mlnetOwn.Split('\n').Last(l => l.Length > 0), full.Split('\n').Last(l => l.Length > 0));
            }
        }

        [TestMethod]
        public void MLNetsOwnConvertToOnnxRefusesInsteadOfWritingAUselessGraph()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(PipelineTests.Points(100, 3));
            var model = SmallFlow(ml).Fit(data);
            using var stream = new MemoryStream();
            var e = Assert.ThrowsExactly<NotSupportedException>(() => ml.Model.ConvertToOnnx(model, data, stream));
            StringAssert.Contains(e.Message, "ConvertToOnnxWithFlow");
        }

        [TestMethod]
        public void AFlowFollowedByOtherTransformersIsRefusedWithTheirNames()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(PipelineTests.Points(100, 3));
            var model = SmallFlow(ml).Append(ml.Transforms.CopyColumns("Score", "LogDensity")).Fit(data);
            using var stream = new MemoryStream();
            var e = Assert.ThrowsExactly<NotSupportedException>(() => ml.Model.ConvertToOnnxWithFlow(model, data, stream));
            StringAssert.Contains(e.Message, "must be the last transformer");
            StringAssert.Contains(e.Message, "ColumnCopyingTransformer");
        }

        private static EstimatorChain<NormalizingFlowTransformer> SmallFlow(MLContext ml) =>
            ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(
                new NormalizingFlowEstimator.Options { NumberOfLayers = 2, HiddenUnits = 8, MaxEpochs = 2, NumberOfThreads = 1 }));
    }
}
