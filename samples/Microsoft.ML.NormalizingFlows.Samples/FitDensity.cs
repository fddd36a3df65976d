using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Training;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// The main job: fit a normalizing flow to columns of a table inside an ML.NET pipeline, report the
    /// log-likelihood as it trains, and draw the learned density over the data.
    /// </summary>
    /// <example>
    /// Expected output on the embedded data (seeded; late digits can differ between machines' floating-point kernels):
    /// <code>
    /// Data: wine (embedded, UCI, CC BY 4.0), 178 rows; columns flavanoids, proline
    /// epoch    1: train log-likelihood   -8.0674, validation   -8.0109  best
    /// ...
    /// Fitted in 15.8 s, 64 epochs (stopped early).
    /// Kept epoch 24 of 64: validation log-likelihood -7.7206 nats per row (data units); training -7.8372.
    /// Mean log-density over all 178 rows: -7.7964; lowest (most unusual row): -13.9875 at row 18.
    /// Wrote samples/output/density.png
    /// </code>
    /// </example>
    internal static class FitDensity
    {
        public static int Example(SampleArguments arguments)
        {
            CsvTable table = CsvTable.Load(arguments.DataPath);
            int d = arguments.Columns.Length;
            float[] values = table.Select(arguments.Columns);
            Console.WriteLine($"Data: {table.Name}, {table.Rows.Count} rows; columns {string.Join(", ", arguments.Columns)}");

            var ml = new MLContext(seed: arguments.Seed);
            IDataView data = LoadFeatures(ml, values, d);
            var options = new NormalizingFlowEstimator.Options
            {
                NumberOfLayers = 3,
                HiddenUnits = 32,
                MaxEpochs = arguments.MaxEpochs,
                BatchSize = 32,
                LearningRate = 2e-3,
                ValidationFraction = 0.2,
                EarlyStoppingPatience = Patience.Epochs(40, data, validationFraction: 0.2, batchSize: 32),
                Seed = arguments.Seed,
                NumberOfThreads = 1,
                InvalidRows = InvalidRowHandling.Skip,
                Progress = new ConsoleProgress(every: 10),
            };
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(data);
            stopwatch.Stop();

            TrainingHistory history = model.TrainingHistory;
            float[] logDensity = model.Transform(data).GetColumn<float>(NormalizingFlowEstimator.DefaultColumnNames.LogDensity).ToArray();
            Console.WriteLine();
            Console.WriteLine($"Fitted in {stopwatch.Elapsed.TotalSeconds:F1} s, {history.Epochs.Count} epochs{(history.StoppedEarly ? " (stopped early)" : "")}.");
            Console.WriteLine($"Kept epoch {history.BestEpoch} of {history.Epochs.Count}: validation log-likelihood " +
                $"{history.BestValidationLogLikelihood:F4} nats per row (data units); training {history.Best!.TrainLogLikelihood:F4}.");
            Console.WriteLine($"Mean log-density over all {logDensity.Length} rows: {logDensity.Average():F4}; " +
                $"lowest (most unusual row): {logDensity.Min():F4} at row {Array.IndexOf(logDensity, logDensity.Min())}.");

            Directory.CreateDirectory(arguments.OutputFolder);
            string picture = Path.Combine(arguments.OutputFolder, "density.png");
            using (NormalizingFlow flow = model.CopyFlow())
                WritePicture(picture, flow, values, arguments.Columns, table.Name);
            Console.WriteLine($"Wrote {picture}");
            return 0;
        }

        // Two columns: the learned density with the data over it. More: flow samples against the data on the first two.
        private static void WritePicture(string path, NormalizingFlow flow, float[] values, string[] columns, string title)
        {
            int d = columns.Length;
            string yLabel = d > 1 ? columns[1] : "";
            double[] xs = DensityPicture.Column(values, d, 0), ys = d > 1 ? DensityPicture.Column(values, d, 1) : new double[xs.Length];
            if (d == 2)
            {
                DensityPicture.HeatMapWithPoints(path, x => flow.LogDensity(x.to_type(flow.ElementType)), xs, ys, columns[0], yLabel,
                    "Learned density (heat map) and the data (white)");
                return;
            }
            float[] samples;
            using (TorchSharp.torch.no_grad())
                samples = flow.Sample(xs.Length, new TorchSharp.torch.Generator().manual_seed(0)).to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
            DensityPicture.TwoClouds(path, (xs, ys, "data"),
                (DensityPicture.Column(samples, d, 0), d > 1 ? DensityPicture.Column(samples, d, 1) : new double[xs.Length], "flow samples"),
                columns[0], yLabel, $"Normalizing flow fitted to {title}");
        }

        private static IDataView LoadFeatures(MLContext ml, float[] values, int d)
        {
            var rows = Enumerable.Range(0, values.Length / d).Select(i => new FeatureVector { Features = values[(i * d)..((i + 1) * d)] });
            SchemaDefinition schema = SchemaDefinition.Create(typeof(FeatureVector));
            schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
            return ml.Data.LoadFromEnumerable(rows.ToList(), schema);
        }

        private sealed class FeatureVector
        {
            public float[] Features = Array.Empty<float>();
        }

        private sealed class ConsoleProgress : IProgress<TrainingProgress>
        {
            private readonly int every;

            public ConsoleProgress(int every) => this.every = every;

            public void Report(TrainingProgress p)
            {
                if (p.Epoch % every == 0 || p.Epoch == 1)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {p.Epoch,4}: train log-likelihood {p.TrainLogLikelihood,9:F4}, validation {p.ValidationLogLikelihood,9:F4}{(p.IsBest ? "  best" : "")}"));
            }
        }
    }
}
