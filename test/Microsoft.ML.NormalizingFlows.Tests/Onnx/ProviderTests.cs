using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tests.MLNet;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>GPU requests: CUDA when usable, else a logged fallback or a clear error.</summary>
    [TestClass]
    public sealed class ProviderTests
    {
        private static (NormalizingFlowTransformer Model, List<string> Log) Fit(int? gpu, bool fallback)
        {
            var ml = new MLContext(seed: 0);
            var log = new List<string>();
            ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
            var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                NumberOfLayers = 2, HiddenUnits = 8, MaxEpochs = 2, NumberOfThreads = 1, GpuDeviceId = gpu, FallbackToCpu = fallback,
            })).Fit(ml.Data.LoadFromEnumerable(PipelineTests.Points(200, 1)));
            return (model.LastTransformer, log);
        }

        [TestMethod]
        public void WithoutAGpuRequestScoringRunsOnTheCpuAndSaysSo()
        {
            (NormalizingFlowTransformer model, List<string> log) = Fit(null, false);
            Assert.AreEqual("CPU", model.ScoringProvider);
            Assert.IsTrue(log.Any(l => l.Contains("CPU provider")), string.Join("\n", log));
        }

        [TestMethod]
        public void AGpuRequestUsesCudaOrFallsBackWithALogLine()
        {
            (NormalizingFlowTransformer model, List<string> log) = Fit(0, true);
            if (model.ScoringProvider == "CUDA")
            {
                Assert.IsTrue(log.Any(l => l.Contains("CUDA provider, device 0")), string.Join("\n", log));
                return;
            }
            Assert.AreEqual("CPU", model.ScoringProvider);
            Assert.IsTrue(log.Any(l => l.Contains("could not use CUDA device 0") && l.Contains("CPU provider instead")), string.Join("\n", log));
            float[] scores = model.Transform(Rows.ToDataView(new MLContext(), Synthetic.TwoMoons(10, 0.1, 2), 2)).GetColumn<float>("LogDensity").ToArray();
            Assert.IsTrue(scores.All(float.IsFinite));
        }

        [TestMethod]
        public void AGpuRequestWithoutFallbackFailsClearlyWhenCudaIsMissing()
        {
            try
            {
                (NormalizingFlowTransformer model, _) = Fit(0, false);
                Assert.AreEqual("CUDA", model.ScoringProvider, "without fallback the provider can only be CUDA");
            }
            catch (InvalidOperationException e)
            {
                StringAssert.Contains(e.Message, "GpuDeviceId = 0 was requested");
                StringAssert.Contains(e.Message, "FallbackToCpu = true");
            }
        }
    }
}
