using System.Globalization;
using Microsoft.ML.Data;
using ScottPlot;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// Synthetic data from class-conditional flows on the shipped data sets: "train on synthetic, test on real" against
    /// "train on real, test on real" (ML.NET's SdcaMaximumEntropy on standardized features); augmenting the rarest class of
    /// the breast-cancer data with generated rows; and a picture of generated 8x8 digits next to real ones.
    /// </summary>
    internal static class GenerateSynthetic
    {
        private sealed record DataSet(string Name, string Resource, string LabelColumn);

        private static readonly DataSet[] DataSets =
        {
            new("wine", "wine.csv", "cultivar"),
            new("breast cancer", "breast_cancer.csv", "malignant"),
            new("digits", "digits.csv", "digit"),
        };

        /// <summary>A labelled row: the class as text and the features.</summary>
        private sealed class Row
        {
            public string Class = "";

            public float[] Features = Array.Empty<float>();

            public static SchemaDefinition Schema(int dimension)
            {
                SchemaDefinition definition = SchemaDefinition.Create(typeof(Row));
                definition[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
                return definition;
            }
        }

        public static int Example(string outputFolder, int seeds)
        {
            Directory.CreateDirectory(outputFolder);
            Console.WriteLine("| data | train on real: macro-F1 | train on synthetic: macro-F1 | accuracy real / synthetic |");
            Console.WriteLine("|---|---|---|---|");
            foreach (DataSet set in DataSets)
            {
                var real = new List<(double F1, double Accuracy)>();
                var synthetic = new List<(double F1, double Accuracy)>();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var ml = new MLContext(seed: seed);
                    (IDataView train, IDataView test, int dimension) = Split(ml, set, seed);
                    using NormalizingFlowTransformer flow = FitFlow(ml, train, seed, dimension);
                    real.Add(Classify(ml, train, test));
                    synthetic.Add(Classify(ml, flow.Generate((int)train.GetRowCount()!.Value, seed), test));
                    if (set.Resource == "digits.csv" && seed == 1) WriteDigits(Path.Combine(outputFolder, "synthetic-digits.png"), ml, train, flow);
                }
                Console.WriteLine($"| {set.Name} | {Summary(real.Select(r => r.F1))} | {Summary(synthetic.Select(r => r.F1))} | " +
                    $"{real.Average(r => r.Accuracy):F3} / {synthetic.Average(r => r.Accuracy):F3} |");
            }
            Augment(seeds);
            Console.WriteLine($"Wrote {Path.Combine(outputFolder, "synthetic-digits.png")}");
            return 0;
        }

        // Breast cancer with the malignant (rarer) class cut to a fifth in training; generated malignant rows bring it back
        // to the benign count. Macro-F1 on real held-out rows, with and without the synthetic rows.
        private static void Augment(int seeds)
        {
            var plain = new List<double>();
            var augmented = new List<double>();
            DataSet set = DataSets[1];
            for (int seed = 1; seed <= seeds; seed++)
            {
                var ml = new MLContext(seed: seed);
                (IDataView train, IDataView test, int dimension) = Split(ml, set, seed, rareKeep: 0.2);
                using NormalizingFlowTransformer flow = FitFlow(ml, train, seed, dimension);
                List<Row> rows = ml.Data.CreateEnumerable<Row>(train, reuseRowObject: false).ToList();
                int rare = rows.Count(r => r.Class == "1"), common = rows.Count - rare;
                List<Row> extra = ml.Data.CreateEnumerable<Row>(flow.Generate(common - rare, seed, label: "1"), reuseRowObject: false).ToList();
                plain.Add(Classify(ml, train, test).F1);
                augmented.Add(Classify(ml, ml.Data.LoadFromEnumerable(rows.Concat(extra), Row.Schema(dimension)), test).F1);
            }
            Console.WriteLine();
            Console.WriteLine("Breast cancer, malignant training rows cut to 20%, test on all held-out real rows:");
            Console.WriteLine($"| real rows only: macro-F1 {Summary(plain)} | plus generated malignant rows up to the benign count: macro-F1 {Summary(augmented)} |");
        }

        private static NormalizingFlowTransformer FitFlow(MLContext ml, IDataView train, int seed, int dimension) =>
            ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                LabelColumnName = nameof(Row.Class), NumberOfLayers = 4, HiddenUnits = Math.Max(32, 2 * dimension), MaxEpochs = 150,
                BatchSize = 32, LearningRate = 1e-3, ValidationFraction = 0.15, EarlyStoppingPatience = Patience.Epochs(20, train, 0.15, 32), Seed = seed, NumberOfThreads = 1,
            }).Fit(train);

        private static (double F1, double Accuracy) Classify(MLContext ml, IDataView train, IDataView test)
        {
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Class))
                .Append(ml.Transforms.NormalizeMeanVariance(nameof(Row.Features)))
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: nameof(Row.Features)));
            MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(pipeline.Fit(train).Transform(test));
            IReadOnlyList<double> precision = metrics.ConfusionMatrix.PerClassPrecision, recall = metrics.ConfusionMatrix.PerClassRecall;
            double f1 = Enumerable.Range(0, precision.Count).Average(i => precision[i] + recall[i] > 0 ? 2 * precision[i] * recall[i] / (precision[i] + recall[i]) : 0);
            return (f1, metrics.MicroAccuracy);
        }

        // A seeded stratified 70/30 split; rareKeep leaves that share of class "1" in the training part.
        private static (IDataView Train, IDataView Test, int Dimension) Split(MLContext ml, DataSet set, int seed, double rareKeep = 1)
        {
            CsvTable table = CsvTable.Embedded(set.Resource, set.Name);
            int label = Array.IndexOf(table.Header, set.LabelColumn);
            int dimension = table.Header.Length - 1;
            var random = new Random(seed);
            var train = new List<Row>();
            var test = new List<Row>();
            foreach (float[] cells in table.Rows)
            {
                var row = new Row { Class = cells[label].ToString(CultureInfo.InvariantCulture), Features = cells.Where((_, i) => i != label).ToArray() };
                if (random.NextDouble() < 0.3) test.Add(row);
                else if (row.Class != "1" || random.NextDouble() < rareKeep) train.Add(row);
            }
            SchemaDefinition schema = Row.Schema(dimension);
            return (ml.Data.LoadFromEnumerable(train, schema), ml.Data.LoadFromEnumerable(test, schema), dimension);
        }

        // Per digit, four real training images then four generated ones, as one gray-scale picture.
        private static void WriteDigits(string path, MLContext ml, IDataView train, NormalizingFlowTransformer flow)
        {
            const int perSide = 4, cell = 9;
            List<Row> rows = ml.Data.CreateEnumerable<Row>(train, reuseRowObject: false).ToList();
            var pixels = new double[10 * cell, 2 * perSide * cell + 2];
            for (int digit = 0; digit < 10; digit++)
            {
                string label = digit.ToString(CultureInfo.InvariantCulture);
                float[][] realImages = rows.Where(r => r.Class == label).Take(perSide).Select(r => r.Features).ToArray();
                float[][] generated = ml.Data.CreateEnumerable<Row>(flow.Generate(perSide, seed: digit, label: label), reuseRowObject: false).Select(r => r.Features).ToArray();
                float[][] images = realImages.Concat(generated).ToArray();
                for (int k = 0; k < images.Length; k++)
                    for (int p = 0; p < 64; p++)
                        pixels[digit * cell + p / 8, k * cell + (k >= perSide ? 2 : 0) + p % 8] = images[k][p];
            }
            var plot = new Plot();
            plot.Title("Digits: 4 real (left) and 4 generated (right) per class");
            var heatmap = plot.Add.Heatmap(pixels);
            heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
            plot.HideGrid();
            plot.SavePng(path, 900, 900);
        }

        private static string Summary(IEnumerable<double> values)
        {
            double[] v = values.ToArray();
            double mean = v.Average();
            double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return $"{mean:F3} ± {sd:F3}";
        }
    }
}
