using System.Globalization;
using System.Text.Json;
using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Where ONNX Runtime spends its scoring time: the density graph of a preset (5 layers, 64 x 2 hidden, as in
    /// <c>train</c>) scored on 50,000 rows (4096 per Run, one thread, all optimizations) with ORT's profiler, node times
    /// summed per operator type.
    /// </summary>
    internal static class ProfileBenchmark
    {
        public static int Run(string[] args)
        {
            FlowPreset preset = FlowPreset.NeuralSplineCoupling;
            int d = 16;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--preset": preset = Enum.Parse<FlowPreset>(args[++i]); break;
                    case "--d": d = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
                }
            }
            set_num_threads(1);
            using var scope = NewDisposeScope();
            var architecture = new FlowArchitecture { Preset = preset, NumberOfLayers = 5, HiddenUnits = 64, HiddenLayers = 2 };
            using NormalizingFlow flow = FlowFactory.Create(d, architecture, seed: 0, new Standardization(new double[d], Enumerable.Repeat(1.0, d).ToArray()));
            float[] values = randn(50_000, d, generator: new Generator().manual_seed(2)).data<float>().ToArray();
            string prefix = Path.Combine(Path.GetTempPath(), $"nf-profile-{Guid.NewGuid():N}");
            using var options = new SessionOptions
            {
                IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, ProfileOutputPathPrefix = prefix,
            };
            options.EnableProfiling = true;
            string file;
            using (var session = new InferenceSession(FlowOnnx.ExportDensity(flow), options))
            {
                Timing.OrtScore(session, values, d);
                file = session.EndProfiling();
            }
            var byOp = new Dictionary<string, (double Micros, int Nodes)>();
            var nodes = new HashSet<string>();
            using (JsonDocument json = JsonDocument.Parse(File.ReadAllText(file)))
            {
                foreach (JsonElement e in json.RootElement.EnumerateArray())
                {
                    if (e.GetProperty("cat").GetString() != "Node" || !e.TryGetProperty("args", out JsonElement a) || !a.TryGetProperty("op_name", out JsonElement op)) continue;
                    string name = e.GetProperty("name").GetString()!;
                    if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                    string type = op.GetString()!;
                    (double micros, int count) = byOp.GetValueOrDefault(type);
                    byOp[type] = (micros + e.GetProperty("dur").GetDouble(), count + (nodes.Add(name) ? 1 : 0));
                }
            }
            File.Delete(file);
            double total = byOp.Values.Sum(v => v.Micros);
            Console.WriteLine($"ONNX Runtime kernel time per operator, {preset} d = {d}, 50,000 rows (4096 per Run), 1 thread: {total / 1000:F1} ms in kernels, {nodes.Count} nodes after optimization");
            Console.WriteLine("| operator | nodes | ms | share |");
            Console.WriteLine("|---|---|---|---|");
            foreach ((string type, (double micros, int count)) in byOp.OrderByDescending(p => p.Value.Micros))
                Console.WriteLine(FormattableString.Invariant($"| {type} | {count} | {micros / 1000:F2} | {100 * micros / total:F1}% |"));
            return 0;
        }
    }
}
