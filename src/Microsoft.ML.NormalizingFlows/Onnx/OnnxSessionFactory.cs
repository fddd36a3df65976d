using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// Creates ONNX Runtime sessions the way ML.NET's <c>ApplyOnnxModel</c> does: the CUDA provider on
    /// <c>gpuDeviceId</c> when asked, falling back to the CPU only when allowed, and saying which provider runs.
    /// </summary>
    public static class OnnxSessionFactory
    {
        /// <summary>Creates a session for <paramref name="model"/>.</summary>
        /// <param name="model">The serialized ONNX model.</param>
        /// <param name="gpuDeviceId">The CUDA device to run on, or <c>null</c> for the CPU.</param>
        /// <param name="fallbackToCpu">Whether to run on the CPU when the CUDA provider cannot be used.</param>
        /// <param name="log">Receives one line saying which provider runs (and why CUDA did not), or <c>null</c>.</param>
        /// <returns>The session and the name of its provider ("CUDA" or "CPU").</returns>
        /// <exception cref="InvalidOperationException">CUDA was asked for, is not usable, and <paramref name="fallbackToCpu"/> is false.</exception>
        public static (InferenceSession Session, string Provider) Create(byte[] model, int? gpuDeviceId, bool fallbackToCpu, Action<string>? log)
        {
            ArgumentNullException.ThrowIfNull(model);
            if (gpuDeviceId is int device)
            {
                SessionOptions? options = null;
                try
                {
                    options = NewOptions();
                    options.AppendExecutionProvider_CUDA(device);
                    var session = new InferenceSession(model, options);
                    log?.Invoke($"ONNX Runtime scores on the CUDA provider, device {device}.");
                    return (session, "CUDA");
                }
                catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
                {
                    if (!fallbackToCpu) throw CudaUnusable(device, e, "");
                    log?.Invoke($"ONNX Runtime could not use CUDA device {device} ({FirstLine(e.Message)}); scoring on the CPU provider instead.");
                }
                finally
                {
                    options?.Dispose();
                }
            }
            using SessionOptions cpu = NewOptions();
            var cpuSession = new InferenceSession(model, cpu);
            if (gpuDeviceId is null) log?.Invoke("ONNX Runtime scores on the CPU provider.");
            return (cpuSession, "CPU");
        }

        /// <summary>
        /// Checks, before a fit spends its time, that scoring will be able to run where asked: with a GPU asked for and no
        /// fallback allowed, throws the exception <see cref="Create"/> would throw if ONNX Runtime cannot load its CUDA provider.
        /// </summary>
        internal static void CheckDevice(int? gpuDeviceId, bool fallbackToCpu)
        {
            if (gpuDeviceId is not int device || fallbackToCpu) return;
            try
            {
                using SessionOptions options = NewOptions();
                options.AppendExecutionProvider_CUDA(device);
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                throw CudaUnusable(device, e, "; checked before fitting");
            }
        }

        private static InvalidOperationException CudaUnusable(int device, Exception e, string when) =>
            new($"GpuDeviceId = {device} was requested but the ONNX Runtime CUDA provider is not usable here ({e.Message.Trim()}){when}. " +
                "Install CUDA 13 and cuDNN for ONNX Runtime 1.31, or set FallbackToCpu = true, or leave GpuDeviceId unset (on the options and on the MLContext).", e);

        private static SessionOptions NewOptions()
        {
            var options = new SessionOptions
            {
                // Warnings such as unused initializers (a flow file keeps every state tensor) are not the user's concern.
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            // Between two blocks the cursor reads the next rows; spinning worker threads would take the cores it needs.
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            return options;
        }

        private static string FirstLine(string message) => message.Trim().Split('\n')[0].Trim();
    }
}
