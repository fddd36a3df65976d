using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Runs build/sklearn_reference.py (Debian's python3-sklearn) on rows written to temporary CSV files, for the zoo and
    /// the anomaly benchmark: the script's arguments are the leading words, the files' paths, then the trailing words.
    /// </summary>
    internal static class SklearnReference
    {
        /// <summary>The script's "models" array, or <c>null</c> with the reason (for example python3-sklearn missing).</summary>
        public static JsonArray? Run(string[] leading, (string Name, IEnumerable<string> Lines)[] files, string[] trailing, out string? failure)
        {
            string folder = Directory.CreateTempSubdirectory("sklearn-reference").FullName;
            try
            {
                var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sklearn_reference.py"));
                foreach (string word in leading) start.ArgumentList.Add(word);
                foreach ((string name, IEnumerable<string> lines) in files)
                {
                    string path = Path.Combine(folder, name);
                    File.WriteAllLines(path, lines);
                    start.ArgumentList.Add(path);
                }
                foreach (string word in trailing) start.ArgumentList.Add(word);
                using Process process = Process.Start(start)!;
                string output = process.StandardOutput.ReadToEnd();
                string error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                failure = process.ExitCode == 0 ? null : error.Trim().Split('\n').Last();
                return failure is null ? JsonNode.Parse(output)!["models"]!.AsArray() : null;
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
