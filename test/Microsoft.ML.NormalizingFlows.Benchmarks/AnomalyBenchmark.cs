using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Samples;

namespace Microsoft.ML.NormalizingFlows.Benchmarks
{
    /// <summary>
    /// Anomaly detection side by side, novelty protocol on the shipped real tables: fit on 60% of the normal rows (seeded
    /// split), test on the other normal rows and every anomaly, seeds 1 to N. The flow is the anomaly trainer with its
    /// defaults (Auto); scikit-learn's detectors (build/sklearn_reference.py anomaly) get the same rows. Prints AUC (mean ± std over
    /// seeds), the flagged share of the test's normal rows at Contamination 0.05 (the flow), and fit seconds.
    /// </summary>
    internal static class AnomalyBenchmark
    {
        public static int Run(string[] args)
        {
            int seeds = 5;
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--seeds") seeds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                else { Console.Error.WriteLine($"unknown argument {args[i]}"); return 2; }
            }
            Console.WriteLine($"Novelty protocol, seeds 1 to {seeds}; {Environment.ProcessorCount} cores, one thread on both sides");
            Console.WriteLine("| data | model | AUC (mean ± std) | flagged share of test normals at 5% | fit seconds (mean) |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (AnomalyDataSet set in AnomalyDataSet.Tables.Append(AnomalyDataSet.Digits))
            {
                (string[] header, float[][] rows) = Read(Path.Combine(AppContext.BaseDirectory, "data", set.File));
                int label = Array.IndexOf(header, set.LabelColumn);
                int[] features = Enumerable.Range(0, header.Length).Where(j => j != label).ToArray();
                var results = new Dictionary<string, List<(double Auc, double Seconds, double Flagged)>>();
                void Add(string model, double auc, double seconds, double flagged = double.NaN)
                {
                    if (!results.TryGetValue(model, out var list)) results[model] = list = new();
                    list.Add((auc, seconds, flagged));
                }
                string? sklearnFailure = null;
                var choices = new List<string>();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var random = new Random(seed);
                    float[][] normal = rows.Where(r => !set.IsAnomaly(r[label])).Select(r => features.Select(j => r[j]).ToArray()).ToArray();
                    float[][] anomalous = rows.Where(r => set.IsAnomaly(r[label])).Select(r => features.Select(j => r[j]).ToArray()).ToArray();
                    random.Shuffle(normal);
                    int trainCount = (int)(0.6 * normal.Length);
                    float[][] train = normal[..trainCount];
                    float[][] test = normal[trainCount..].Concat(anomalous).ToArray();
                    float[] labels = test.Select((_, i) => i < normal.Length - trainCount ? 0f : 1f).ToArray();

                    var ml = new MLContext(seed: seed);
                    var watch = Stopwatch.StartNew();
                    NormalizingFlowAnomalyModel model = ml.AnomalyDetection.Trainers.NormalizingFlow(new NormalizingFlowAnomalyEstimator.Options
                    {
                        Flow = new NormalizingFlowEstimator.Options { ValidationFraction = 0.2, Seed = seed, NumberOfThreads = 1 },
                    }).Fit(View(ml, train, null, features.Length));
                    double seconds = watch.Elapsed.TotalSeconds;
                    IDataView scored = model.Transform(View(ml, test, labels, features.Length));
                    double auc = ml.AnomalyDetection.Evaluate(scored).AreaUnderRocCurve;
                    bool[] flagged = scored.GetColumn<bool>("PredictedLabel").ToArray();
                    choices.Add(model.Flow.TrainingHistory.Choice?.Chosen.Replace("spline coupling, ", "", StringComparison.Ordinal) ?? "-");
                    Add("flow, defaults (Auto)", auc, seconds,
                        Enumerable.Range(0, flagged.Length).Count(i => labels[i] == 0 && flagged[i]) / (double)(normal.Length - trainCount));
                    model.Dispose();

                    JsonArray? sklearn = Sklearn(train, test, labels, seed, out sklearnFailure);
                    foreach (JsonNode? m in sklearn ?? new JsonArray())
                        Add($"sklearn {m!["name"]} ({m["setting"]})", m["auc"]!.GetValue<double>(), m["seconds"]!.GetValue<double>());
                }
                string data = set.ShortName;
                Console.WriteLine($"| {data} | Auto chose: {string.Join(", ", choices.GroupBy(c => c).Select(g => $"{g.Key} x{g.Count()}"))} | | | |");
                foreach ((string model, var list) in results.OrderBy(r => r.Key.StartsWith("flow", StringComparison.Ordinal) ? 0 : 1))
                {
                    string flaggedText = list.All(r => double.IsNaN(r.Flagged)) ? "-" : Stats(list.Select(r => r.Flagged), "P1");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {data} | {model} | {Stats(list.Select(r => r.Auc), "F3")} | {flaggedText} | {list.Average(r => r.Seconds):F1} |"));
                }
                if (sklearnFailure is not null) Console.WriteLine($"| {data} | scikit-learn not run: {sklearnFailure} (install python3-sklearn) | | | |");
            }
            return 0;
        }

        private static string Stats(IEnumerable<double> values, string format)
        {
            double[] v = values.ToArray();
            double mean = v.Average(), std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, v.Length - 1));
            return $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {std.ToString(format, CultureInfo.InvariantCulture)}";
        }

        private static IDataView View(MLContext ml, float[][] rows, float[]? labels, int width)
        {
            var schema = SchemaDefinition.Create(typeof(Row));
            schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
            return ml.Data.LoadFromEnumerable(rows.Select((r, i) => new Row { Features = r, Label = labels?[i] ?? 0 }), schema);
        }

        private static (string[] Header, float[][] Rows) Read(string path)
        {
            string[] lines = File.ReadAllLines(path);
            return (lines[0].Split(','), lines.Skip(1).Where(l => l.Length > 0)
                .Select(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray());
        }

        // The scikit-learn detectors on the same rows; null (and why) when python3-sklearn is missing.
        private static JsonArray? Sklearn(float[][] train, float[][] test, float[] labels, int seed, out string? failure)
        {
            string Line(float[] r) => string.Join(',', r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            return SklearnReference.Run(new[] { "anomaly" },
                new[] { ("train.csv", train.Select(Line)), ("test.csv", test.Select(Line)), ("labels.csv", labels.Select(l => l.ToString(CultureInfo.InvariantCulture))) },
                new[] { seed.ToString(CultureInfo.InvariantCulture) }, out failure);
        }

        private sealed class Row
        {
            public float[] Features = Array.Empty<float>();
            public float Label;
        }
    }
}
