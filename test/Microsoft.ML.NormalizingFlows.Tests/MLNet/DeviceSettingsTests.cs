using Microsoft.ML.NormalizingFlows.Onnx;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>The scoring device follows MLContext.GpuDeviceId and FallbackToCpu where the options leave them unset, and is checked before a fit.</summary>
    [TestClass]
    public sealed class DeviceSettingsTests
    {
        [TestMethod]
        public void TheMLContextsDeviceSettingsApplyWhereTheOptionsLeaveThemUnsetAndAreCheckedBeforeFitting()
        {
            bool cudaUsable;
            try
            {
                OnnxSessionFactory.CheckDevice(0, fallbackToCpu: false);
                cudaUsable = true;
            }
            catch (InvalidOperationException)
            {
                cudaUsable = false;
            }
            var options = new NormalizingFlowEstimator.Options { Preset = FlowPreset.RealNvp, NumberOfLayers = 2, HiddenUnits = 8, MaxEpochs = 1, NumberOfThreads = 1 };

            var lenient = new MLContext(seed: 0) { GpuDeviceId = 0, FallbackToCpu = true };
            IDataView data = Rows.ToDataView(lenient, Synthetic.TwoMoons(300, 0.1, 1), 2);
            using (NormalizingFlowTransformer model = lenient.Transforms.NormalizingFlow(options).Fit(data))
            {
                Assert.AreEqual(0, model.GpuDeviceId, "the context's device");
                Assert.IsTrue(model.FallbackToCpu, "the context's fallback");
                Assert.AreEqual(cudaUsable ? "CUDA" : "CPU", model.ScoringProvider);
                using var stream = new MemoryStream();
                model.SaveTo(stream);
                stream.Position = 0;
                using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(lenient, stream);
                Assert.AreEqual(0, loaded.GpuDeviceId, "Load takes the context's device too");
            }

            var strict = new MLContext(seed: 0) { GpuDeviceId = 0, FallbackToCpu = false };
            if (cudaUsable)
            {
                using NormalizingFlowTransformer model = strict.Transforms.NormalizingFlow(options).Fit(data);
                Assert.AreEqual("CUDA", model.ScoringProvider);
            }
            else
            {
                var e = Assert.ThrowsExactly<InvalidOperationException>(() => strict.Transforms.NormalizingFlow(options).Fit(data));
                StringAssert.Contains(e.Message, "GpuDeviceId = 0");
                StringAssert.Contains(e.Message, "checked before fitting");
            }
        }
    }
}
