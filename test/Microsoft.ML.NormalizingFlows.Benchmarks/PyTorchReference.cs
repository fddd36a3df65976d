using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// The PyTorch eager reference (build/pytorch_reference.py) as a long-lived child process of the benchmark,
    /// answering one JSON line per JSON-line request on stdin/stdout (the protocol is in the script's docstring), so
    /// that the benchmark can alternate its own timed runs with PyTorch's in one process tree. Run with Debian's
    /// /usr/bin/python3 and python3-torch, on one thread: the thread variables are set in the child's environment too.
    /// </summary>
    internal sealed class PyTorchReference : IDisposable
    {
        private static readonly string[] ThreadVariables = { "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS" };

        private readonly Process process;
        private readonly Queue<string> errorTail = new();
        private bool dead;

        private PyTorchReference(Process process)
        {
            this.process = process;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (errorTail)
                {
                    errorTail.Enqueue(e.Data);
                    while (errorTail.Count > 20) errorTail.Dequeue();
                }
            };
            process.BeginErrorReadLine();
        }

        /// <summary>The torch version.</summary>
        public string TorchVersion { get; private set; } = "?";

        /// <summary>The BLAS torch's matmul runs on: openblas, mkl, blis, atlas, reference (Debian's netlib libblas3) or unknown.</summary>
        public string BlasKind { get; private set; } = "unknown";

        /// <summary>A line describing the BLAS: its library, the Debian alternative, its thread count and measured sgemm rate.</summary>
        public string BlasDescription { get; private set; } = "";

        /// <summary>Whether the BLAS is the reference implementation, with which ratios against PyTorch mean nothing.</summary>
        public bool OnReferenceBlas => BlasKind == "reference";

        /// <summary>The errors the reference answered, in order, for the report under the table.</summary>
        public List<string> Errors { get; } = new();

        /// <summary>Starts the script with <c>--serve</c> and asks for its versions; <c>null</c> (and why) when there is no usable Python with torch.</summary>
        public static PyTorchReference? Start(out string whyNot)
        {
            string script = Path.Combine(AppContext.BaseDirectory, "pytorch_reference.py");
            var start = new ProcessStartInfo("/usr/bin/python3")
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                ArgumentList = { script, "--serve" },
            };
            foreach (string variable in ThreadVariables) start.Environment[variable] = "1";
            start.Environment["PYTHONUNBUFFERED"] = "1";
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                whyNot = $"PyTorch reference skipped: /usr/bin/python3 could not start ({e.Message}).";
                return null;
            }
            var reference = new PyTorchReference(process);
            JsonObject? info = reference.Request(new JsonObject { ["op"] = "info" });
            if (info is null)
            {
                whyNot = "PyTorch reference skipped: /usr/bin/python3 has no torch (apt-get install python3-torch)." + reference.ErrorTail();
                reference.Dispose();
                return null;
            }
            reference.TorchVersion = info["torch"]?.GetValue<string>() ?? "?";
            JsonObject? blas = info["blas"]?.AsObject();
            reference.BlasKind = blas?["kind"]?.GetValue<string>() ?? "unknown";
            string library = blas?["library"]?.GetValue<string>() ?? "library not found";
            string alternative = blas?["alternative"]?.GetValue<string>() is string a ? $"; libblas.so.3 alternative {a}" : "";
            string threads = blas?["threads"] is JsonNode t ? $"; {t.GetValue<int>()} BLAS thread(s)" : "";
            string rate = blas?["sgemm_gflops"] is JsonNode g ? FormattableString.Invariant($"; sgemm 256^3 {g.GetValue<double>():F1} GFLOP/s") : "";
            reference.BlasDescription = $"{reference.BlasKind} ({library}{alternative}{threads}{rate})";
            whyNot = "";
            return reference;
        }

        /// <summary>Builds the reference flow for a preset and dimension, with its training and scoring rows; false on failure.</summary>
        public bool Build(string preset, int d, int layers, int hiddenUnits, int hiddenLayers, int batch, int steps, int scoreRows) =>
            Request(new JsonObject
            {
                ["op"] = "build", ["preset"] = preset, ["d"] = d, ["layers"] = layers, ["hidden"] = hiddenUnits, ["hidden_layers"] = hiddenLayers,
                ["batch"] = batch, ["steps"] = steps, ["score_rows"] = scoreRows, ["seed"] = 0,
            }) is not null;

        /// <summary>Seconds for one timed run of <paramref name="steps"/> Adam steps of the built flow; NaN on failure.</summary>
        public double Train(int steps) => Seconds(new JsonObject { ["op"] = "train", ["steps"] = steps });

        /// <summary>Seconds to score <paramref name="rows"/> rows without gradients, 4096 per call; NaN on failure.</summary>
        public double Score(int rows) => Seconds(new JsonObject { ["op"] = "score", ["rows"] = rows });

        private double Seconds(JsonObject request) => Request(request)?["seconds"]?.GetValue<double>() ?? double.NaN;

        // One request line, one answer line; null (and the error noted) when the answer says ok: false or the child is gone.
        private JsonObject? Request(JsonObject request)
        {
            if (dead) return null;
            string? line;
            try
            {
                process.StandardInput.WriteLine(request.ToJsonString());
                process.StandardInput.Flush();
                line = process.StandardOutput.ReadLine();
            }
            catch (IOException)
            {
                line = null;
            }
            if (line is null)
            {
                dead = true;
                if (process.WaitForExit(5_000)) process.WaitForExit(); // the second wait lets the stderr reader finish
                Errors.Add($"{request["op"]}: the reference process ended.{ErrorTail()}");
                return null;
            }
            JsonObject answer = JsonNode.Parse(line)!.AsObject();
            if (answer["ok"]?.GetValue<bool>() == true) return answer;
            Errors.Add($"{request.ToJsonString()}: {answer["error"]?.GetValue<string>() ?? line}");
            return null;
        }

        private string ErrorTail()
        {
            lock (errorTail)
                return errorTail.Count == 0 ? "" : Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", errorTail);
        }

        /// <summary>Asks the child to quit and waits for it (ends it if it does not).</summary>
        public void Dispose()
        {
            try
            {
                if (!dead && !process.HasExited)
                {
                    process.StandardInput.WriteLine("{\"op\":\"quit\"}");
                    process.StandardInput.Close();
                }
                if (!process.WaitForExit(10_000)) process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
            }
            process.Dispose();
        }

        /// <summary>Formats <paramref name="value"/>, or "-" when it is not finite.</summary>
        public static string Text(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";
    }
}
