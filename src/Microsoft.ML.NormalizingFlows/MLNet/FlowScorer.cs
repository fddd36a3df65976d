using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>Scores blocks of rows with a flow's density graph on ONNX Runtime: log-densities and, when asked, latents.</summary>
    internal sealed class FlowScorer : IDisposable
    {
        /// <summary>Rows scored per ONNX Runtime call when a cursor reads ahead (4096 measured about 1.5x faster than 1024 at d = 32).</summary>
        public const int BlockSize = 4096;

        private static readonly string[] InputNames = { FlowOnnx.FeaturesName };
        private static readonly string[] DensityOnly = { FlowOnnx.LogDensityName };
        private static readonly string[] DensityAndLatent = { FlowOnnx.LogDensityName, FlowOnnx.LatentName };

        private readonly InferenceSession session;

        public FlowScorer(byte[] densityModel, int dimension, int? gpuDeviceId, bool fallbackToCpu, Action<string>? log)
        {
            Dimension = dimension;
            (session, Provider) = OnnxSessionFactory.Create(densityModel, gpuDeviceId, fallbackToCpu, log);
        }

        public int Dimension { get; }

        /// <summary>"CUDA" or "CPU".</summary>
        public string Provider { get; }

        /// <summary>Scores <paramref name="count"/> rows from row-major <paramref name="rows"/> in one ONNX Runtime call.</summary>
        public void Score(float[] rows, int count, float[] logDensity, float[] latent, bool withLatent)
        {
            if (count == 0) return;
            using OrtValue input = OrtValue.CreateTensorValueFromMemory(
                OrtMemoryInfo.DefaultInstance, rows.AsMemory(0, count * Dimension), new long[] { count, Dimension });
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, InputNames, new[] { input }, withLatent ? DensityAndLatent : DensityOnly);
            results[0].GetTensorDataAsSpan<float>().CopyTo(logDensity);
            if (withLatent) results[1].GetTensorDataAsSpan<float>().CopyTo(latent);
        }

        public void Dispose() => session.Dispose();
    }
}
