using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>Runs an ONNX model on the CPU provider with one float input and reads float outputs.</summary>
    internal static class OrtRunner
    {
        public static Dictionary<string, float[]> Run(byte[] model, string inputName, float[] input, int rows, int width)
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            using var session = new InferenceSession(model, options);
            using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, new long[] { rows, width });
            string[] outputs = session.OutputNames.ToArray();
            using var results = session.Run(new RunOptions(), new[] { inputName }, new[] { value }, outputs);
            return outputs.Zip(results).ToDictionary(p => p.First, p => p.Second.GetTensorDataAsSpan<float>().ToArray());
        }
    }
}
