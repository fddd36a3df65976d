using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Anomaly detection with a normalizing flow: fits a flow to (mostly) normal rows and scores each row by its
    /// negative log-density, <c>Score = -log p(x)</c> (higher is more anomalous), with <c>PredictedLabel = Score &gt;
    /// Threshold</c>. The threshold is calibrated on rows held out from the fit. The output works with
    /// <c>mlContext.AnomalyDetection.Evaluate</c> as it is. Create it with
    /// <c>mlContext.AnomalyDetection.Trainers.NormalizingFlow(...)</c>.
    /// </summary>
    /// <remarks>
    /// Likelihood models can give some out-of-distribution data a higher density than typical data (a known property
    /// of density models, most visible on images); check the score distributions on held-out anomalies when you can.
    /// </remarks>
    public sealed class NormalizingFlowAnomalyEstimator : IEstimator<NormalizingFlowAnomalyModel>
    {
        private readonly IHostEnvironment environment;
        private readonly Options options;
        private readonly NormalizingFlowEstimator.Options flowOptions;

        /// <summary>Options of the anomaly estimator; validated when it is created.</summary>
        public sealed class Options
        {
            /// <summary>The input column, a known-size vector of Single. Default "Features".</summary>
            public string FeatureColumnName = NormalizingFlowEstimator.DefaultColumnNames.Features;

            /// <summary>
            /// The expected fraction of anomalies: the threshold is the (1 - Contamination) quantile of the held-out rows'
            /// scores, so about this fraction of normal rows is flagged. Range: 0 to 0.5. Default 0.05.
            /// Ignored when <see cref="ThresholdPercentile"/> is set.
            /// </summary>
            public double Contamination = 0.05;

            /// <summary>The threshold as a percentile (0 to 100) of the calibration scores, or <c>null</c> to use <see cref="Contamination"/>.</summary>
            public double? ThresholdPercentile;

            /// <summary>
            /// Which scores calibrate the threshold. Default <see cref="ThresholdCalibration.Auto"/>: the held-out rows' when
            /// there are at least <see cref="MinimumHeldOutRows"/> of them, otherwise out-of-fold scores of every row
            /// (<see cref="ThresholdCalibration.CrossFitted"/>, which costs <see cref="CalibrationFolds"/> more fits).
            /// </summary>
            public ThresholdCalibration Calibration = ThresholdCalibration.Auto;

            /// <summary>With <see cref="ThresholdCalibration.Auto"/>, the fewest held-out rows calibrated on directly. Range: 1 or more. Default 200.</summary>
            public int MinimumHeldOutRows = 200;

            /// <summary>Folds of cross-fitted calibration: each fold's rows are scored by a flow fitted to the others. Range: 2 to 20. Default 5.</summary>
            public int CalibrationFolds = 5;

            /// <summary>
            /// The flow and its training (feature column, architecture, epochs, seed, <c>TrimFraction</c> for contaminated
            /// training data...). Its <c>ValidationFraction</c> is the held-out part used for calibration; default 0.2.
            /// </summary>
            public NormalizingFlowEstimator.Options Flow = new() { ValidationFraction = 0.2 };

            /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option outside its range.</summary>
            public void Validate()
            {
                MaximumLikelihoodOptions.Check(Contamination >= 0 && Contamination <= 0.5, nameof(Contamination), Contamination, "from 0 to 0.5");
                MaximumLikelihoodOptions.Check(ThresholdPercentile is null or >= 0 and <= 100, nameof(ThresholdPercentile), ThresholdPercentile, "null or from 0 to 100");
                MaximumLikelihoodOptions.Check(Flow is not null, nameof(Flow), Flow, "set");
                MaximumLikelihoodOptions.Check(Enum.IsDefined(Calibration), nameof(Calibration), Calibration, "Auto, HeldOut or CrossFitted");
                MaximumLikelihoodOptions.Check(MinimumHeldOutRows >= 1, nameof(MinimumHeldOutRows), MinimumHeldOutRows, "1 or more");
                MaximumLikelihoodOptions.Check(CalibrationFolds is >= 2 and <= 20, nameof(CalibrationFolds), CalibrationFolds, "from 2 to 20");
                MaximumLikelihoodOptions.Check(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "a non-empty column name");
                MaximumLikelihoodOptions.Check(Flow!.ValidationFraction > 0, "Flow.ValidationFraction", Flow.ValidationFraction,
                    "greater than 0 (the held-out rows calibrate the threshold)");
                Flow.Validate();
            }
        }

        /// <summary>
        /// Creates the estimator (as <c>mlContext.AnomalyDetection.Trainers.NormalizingFlow(options)</c> does);
        /// <paramref name="options"/> are validated here.
        /// </summary>
        /// <param name="mlContext">The context whose log receives training progress and the threshold line.</param>
        /// <param name="options">The options.</param>
        public NormalizingFlowAnomalyEstimator(MLContext mlContext, Options options)
            : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), options)
        {
        }

        internal NormalizingFlowAnomalyEstimator(IHostEnvironment environment, Options options)
        {
            ArgumentNullException.ThrowIfNull(environment);
            ArgumentNullException.ThrowIfNull(options);
            options.Validate();
            // The flow's columns are the anomaly model's business: set them on a copy, leaving the caller's options as they are.
            NormalizingFlowEstimator.Options flow = options.Flow.Clone();
            flow.FeatureColumnName = options.FeatureColumnName;
            flow.LogDensityColumnName = NormalizingFlowAnomalyModel.LogDensityColumn;
            flow.LatentColumnName = null;
            flow.ScoreColumnName = null;
            this.environment = environment;
            this.options = options;
            flowOptions = flow;
        }

        /// <summary>The input shape plus <c>Score</c> (Single) and <c>PredictedLabel</c> (Boolean).</summary>
        /// <param name="inputSchema">The input shape.</param>
        /// <returns>The output shape.</returns>
        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            FeatureColumn.Check(inputSchema, options.FeatureColumnName);
            var columns = inputSchema.ToDictionary(c => c.Name);
            columns[NormalizingFlowAnomalyModel.ScoreColumn] = SchemaShapeColumns.Single(NormalizingFlowAnomalyModel.ScoreColumn);
            columns[NormalizingFlowAnomalyModel.PredictedLabelColumn] = SchemaShapeColumns.Boolean(NormalizingFlowAnomalyModel.PredictedLabelColumn);
            return new SchemaShape(columns.Values);
        }

        /// <summary>Fits the flow, calibrates the threshold (<see cref="Options.Calibration"/>) and returns the model.</summary>
        /// <param name="input">The training rows (normal, or mostly normal with <c>Flow.TrimFraction</c>).</param>
        /// <returns>The model.</returns>
        public NormalizingFlowAnomalyModel Fit(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            NormalizingFlowTransformer flow = new NormalizingFlowEstimator(environment, flowOptions).Fit(input);
            try
            {
                bool crossFit = options.Calibration == ThresholdCalibration.CrossFitted ||
                    options.Calibration == ThresholdCalibration.Auto && flow.HeldOutLogDensities.Count < options.MinimumHeldOutRows;
                float[] scores = crossFit ? OutOfFoldScores(input) : flow.HeldOutLogDensities.Select(v => -v).ToArray();
                double quantile = options.ThresholdPercentile is double percentile ? percentile / 100 : 1 - options.Contamination;
                var model = new NormalizingFlowAnomalyModel(flow, scores, NormalizingFlowAnomalyModel.Quantile(scores, quantile));
                (double low, double high) = model.ThresholdInterval;
                using IChannel channel = environment.Register(nameof(NormalizingFlowAnomalyEstimator)).Start("Calibrating the threshold");
                string source = crossFit ? $"out-of-fold scores ({options.CalibrationFolds} folds)" : "held-out scores";
                channel.Info(MessageSensitivity.None, FormattableString.Invariant(
                    $"Threshold {model.Threshold:G6} from {scores.Length} {source}; 90% interval for the threshold at quantile {quantile:G4}: {low:G6} to {high:G6}."));
                return model;
            }
            catch
            {
                flow.Dispose();
                throw;
            }
        }

        // Cross-fitting: each fold's rows scored by a flow fitted (with the same options) to the other folds.
        private float[] OutOfFoldScores(IDataView input)
        {
            var split = new MLContext(flowOptions.Seed).Data.CrossValidationSplit(input, options.CalibrationFolds, seed: flowOptions.Seed);
            var scores = new List<float>();
            foreach (DataOperationsCatalog.TrainTestData fold in split)
            {
                using NormalizingFlowTransformer model = new NormalizingFlowEstimator(environment, flowOptions).Fit(fold.TrainSet);
                scores.AddRange(model.Transform(fold.TestSet).GetColumn<float>(NormalizingFlowAnomalyModel.LogDensityColumn).Select(v => -v));
            }
            return scores.ToArray();
        }
    }

    /// <summary>Which scores calibrate an anomaly threshold.</summary>
    public enum ThresholdCalibration
    {
        /// <summary>The held-out rows' scores when there are enough of them (<c>MinimumHeldOutRows</c>), otherwise cross-fitted.</summary>
        Auto,

        /// <summary>The scores of the rows held out from the fit (<c>Flow.ValidationFraction</c> of them).</summary>
        HeldOut,

        /// <summary>Out-of-fold scores of every training row: each fold scored by a flow fitted to the other folds.</summary>
        CrossFitted,
    }
}
