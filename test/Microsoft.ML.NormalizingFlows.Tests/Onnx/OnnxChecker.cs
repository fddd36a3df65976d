using System.Diagnostics;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>The ONNX project's own checker (Debian's python3-onnx), when this machine has it.</summary>
    internal static class OnnxChecker
    {
        private const string Python = "/usr/bin/python3";

        public static bool Available { get; } = Run("-c \"import onnx\"").ExitCode == 0;

        /// <summary>Runs onnx.checker.check_model on the model (with shape inference when <paramref name="fullCheck"/>); returns the checker's error text, or null when it passes.</summary>
        public static string? Check(byte[] model, bool fullCheck = true)
        {
            string path = Path.Combine(Path.GetTempPath(), $"nf-check-{Guid.NewGuid():N}.onnx");
            File.WriteAllBytes(path, model);
            try
            {
                (int exitCode, string output) = Run($"-c \"import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check={(fullCheck ? "True" : "False")})\" {path}");
                return exitCode == 0 ? null : output;
            }
            finally
            {
                File.Delete(path);
            }
        }

        private static (int ExitCode, string Output) Run(string arguments)
        {
            if (!File.Exists(Python)) return (-1, "no " + Python);
            var start = new ProcessStartInfo(Python, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
    }
}
