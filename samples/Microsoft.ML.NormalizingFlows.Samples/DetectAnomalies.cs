using System.Globalization;
using Microsoft.ML.Data;
using ScottPlot;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// Anomaly detection on the shipped real data sets, novelty protocol: fit on 60% of the normal rows; test on the
    /// other normal rows and every anomaly. The flow (mlContext.AnomalyDetection.Trainers.NormalizingFlow) and ML.NET's
    /// RandomizedPca (on standardized features) are judged by mlContext.AnomalyDetection.Evaluate over several seeds;
    /// a PNG shows the flow's score distributions of normal and anomalous test rows.
    /// </summary>
    internal static class DetectAnomalies
    {
        public static int Example(string outputFolder, int seeds, double averageDecay = 0)
        {
            Directory.CreateDirectory(outputFolder);
            Console.WriteLine("| data | method | AUC (mean ± std) | detection rate at 5 false positives (mean ± std) |");
            Console.WriteLine("|---|---|---|---|");
            foreach (AnomalyDataSet set in AnomalyDataSet.Tables)
            {
                CsvTable table = CsvTable.Embedded(set.File, set.Name);
                string[] features = table.Header.Where(h => h != set.LabelColumn).ToArray();
                int labelIndex = Array.IndexOf(table.Header, set.LabelColumn);
                var flowResults = new List<(double Auc, double Detection)>();
                var pcaResults = new List<(double Auc, double Detection)>();
                var contaminatedResults = new List<(double Auc, double Detection)>();
                var trimmedResults = new List<(double Auc, double Detection)>();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var ml = new MLContext(seed: seed);
                    (List<Row> train, List<Row> test) = Split(table, features, labelIndex, set.IsAnomaly, seed, contaminated: false);
                    SchemaDefinition schema = Row.Schema(features.Length);
                    IDataView trainView = ml.Data.LoadFromEnumerable(train, schema), testView = ml.Data.LoadFromEnumerable(test, schema);

                    IDataView flowScored = FitFlow(ml, trainView, seed, trim: 0, averageDecay).Transform(testView);
                    AnomalyDetectionMetrics flowMetrics = ml.AnomalyDetection.Evaluate(flowScored, falsePositiveCount: 5);
                    flowResults.Add((flowMetrics.AreaUnderRocCurve, flowMetrics.DetectionRateAtFalsePositiveCount));

                    // Contaminated training data: 10% of the training rows are anomalies; the trimmed likelihood should resist them.
                    (List<Row> dirtyTrain, List<Row> dirtyTest) = Split(table, features, labelIndex, set.IsAnomaly, seed, contaminated: true);
                    IDataView dirtyTrainView = ml.Data.LoadFromEnumerable(dirtyTrain, schema), dirtyTestView = ml.Data.LoadFromEnumerable(dirtyTest, schema);
                    foreach ((double trim, List<(double, double)> results) in new[] { (0.0, contaminatedResults), (0.1, trimmedResults) })
                    {
                        AnomalyDetectionMetrics m = ml.AnomalyDetection.Evaluate(FitFlow(ml, dirtyTrainView, seed, trim, averageDecay).Transform(dirtyTestView), falsePositiveCount: 5);
                        results.Add((m.AreaUnderRocCurve, m.DetectionRateAtFalsePositiveCount));
                    }

                    var pca = ml.Transforms.NormalizeMeanVariance("Features")
                        .Append(ml.AnomalyDetection.Trainers.RandomizedPca("Features", rank: Math.Min(5, features.Length - 1), seed: seed)).Fit(trainView);
                    AnomalyDetectionMetrics pcaMetrics = ml.AnomalyDetection.Evaluate(pca.Transform(testView), falsePositiveCount: 5);
                    pcaResults.Add((pcaMetrics.AreaUnderRocCurve, pcaMetrics.DetectionRateAtFalsePositiveCount));

                    if (seed == 1) WriteScorePicture(Path.Combine(outputFolder, $"anomaly-scores-{Path.GetFileNameWithoutExtension(set.File)}.png"), flowScored, set.Name);
                }
                Console.WriteLine(Line(set.Name, "normalizing flow", flowResults));
                Console.WriteLine(Line(set.Name, "RandomizedPca", pcaResults));
                Console.WriteLine(Line(set.Name, "flow, training 10% contaminated", contaminatedResults));
                Console.WriteLine(Line(set.Name, "flow, training 10% contaminated, TrimFraction 0.1", trimmedResults));
            }
            Console.WriteLine($"Wrote {Path.Combine(outputFolder, "anomaly-scores-*.png")}");
            return 0;
        }

        private static NormalizingFlowAnomalyModel FitFlow(MLContext ml, IDataView train, int seed, double trim, double averageDecay) =>
            ml.AnomalyDetection.Trainers.NormalizingFlow(new NormalizingFlowAnomalyEstimator.Options
            {
                Contamination = 0.05,
                Flow = new NormalizingFlowEstimator.Options
                {
                    Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 3, HiddenUnits = 32, MaxEpochs = 150, BatchSize = 32,
                    LearningRate = 2e-3, ValidationFraction = 0.2, EarlyStoppingPatience = Patience.Epochs(15, train, 0.2, 32), Seed = seed, NumberOfThreads = 1, TrimFraction = trim,
                    AverageDecay = averageDecay,
                },
            }).Fit(train);

        private static string Line(string data, string method, List<(double Auc, double Detection)> results) =>
            string.Create(CultureInfo.InvariantCulture,
                $"| {data.Split(' ')[0]} | {method} | {Mean(results.Select(r => r.Auc))} | {Mean(results.Select(r => r.Detection))} |");

        private static string Mean(IEnumerable<double> values)
        {
            double[] v = values.ToArray();
            double mean = v.Average();
            double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, v.Length - 1));
            return string.Create(CultureInfo.InvariantCulture, $"{mean:F3} ± {std:F3}");
        }

        // Novelty protocol: 60% of the normal rows train; the rest of the normal rows and every anomaly test. Contaminated:
        // anomalies as many as a ninth of the training normals join the training rows (10% of them) and leave the test.
        private static (List<Row> Train, List<Row> Test) Split(CsvTable table, string[] features, int labelIndex, Func<float, bool> isAnomaly, int seed, bool contaminated)
        {
            int[] columns = features.Select(f => Array.IndexOf(table.Header, f)).ToArray();
            var rows = table.Rows.Select(r => new Row { Features = columns.Select(c => r[c]).ToArray(), Label = isAnomaly(r[labelIndex]) ? 1 : 0 }).ToList();
            var random = new Random(seed);
            var normal = rows.Where(r => r.Label == 0).ToArray();
            var anomalous = rows.Where(r => r.Label == 1).ToArray();
            random.Shuffle(normal);
            random.Shuffle(anomalous);
            int trainCount = (int)(0.6 * normal.Length);
            int dirt = contaminated ? Math.Min(anomalous.Length / 2, trainCount / 9) : 0;
            return (normal.Take(trainCount).Concat(anomalous.Take(dirt)).ToList(), normal.Skip(trainCount).Concat(anomalous.Skip(dirt)).ToList());
        }

        private static void WriteScorePicture(string path, IDataView scored, string name)
        {
            float[] scores = scored.GetColumn<float>("Score").ToArray();
            float[] labels = scored.GetColumn<float>("Label").ToArray();
            var plot = new Plot();
            plot.Title($"Flow anomaly scores (-log density), {name}");
            plot.XLabel("score");
            plot.YLabel("rows");
            double low = scores.Min(), high = Math.Min(scores.Max(), Percentile(scores, 0.98) * 1.5 + 1);
            foreach ((string label, bool anomalous, Color color) in new[] { ("normal", false, Colors.SteelBlue), ("anomalous", true, Colors.OrangeRed) })
            {
                double[] values = scores.Where((s, i) => (labels[i] == 1) == anomalous).Select(s => Math.Min(s, high)).Select(s => (double)s).ToArray();
                var histogram = ScottPlot.Statistics.Histogram.WithBinCount(30, low, high);
                histogram.AddRange(values);
                var bars = plot.Add.Bars(histogram.Bins, histogram.Counts);
                bars.Color = color.WithAlpha(0.6);
                bars.LegendText = label;
                foreach (var bar in bars.Bars) bar.Size = histogram.FirstBinSize * 0.9;
            }
            plot.ShowLegend();
            plot.SavePng(path, 900, 600);
        }

        private static double Percentile(float[] values, double q)
        {
            float[] sorted = values.OrderBy(v => v).ToArray();
            return sorted[(int)(q * (sorted.Length - 1))];
        }

        private sealed class Row
        {
            public float[] Features = Array.Empty<float>();

            public float Label;

            public static SchemaDefinition Schema(int width)
            {
                SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
                schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
                return schema;
            }
        }
    }
}
