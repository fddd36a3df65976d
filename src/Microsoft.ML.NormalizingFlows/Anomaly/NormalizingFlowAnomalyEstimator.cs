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

            /// <summary>The threshold as a percentile (0 to 100) of the held-out rows' scores, or <c>null</c> to use <see cref="Contamination"/>.</summary>
            public double? ThresholdPercentile;

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
                MaximumLikelihoodOptions.Check(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "a non-empty column name");
                MaximumLikelihoodOptions.Check(Flow!.ValidationFraction > 0, "Flow.ValidationFraction", Flow.ValidationFraction,
                    "greater than 0 (the held-out rows calibrate the threshold)");
                Flow.Validate();
            }
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

        /// <summary>Fits the flow, calibrates the threshold on the held-out rows and returns the model.</summary>
        /// <param name="input">The training rows (normal, or mostly normal with <c>Flow.TrimFraction</c>).</param>
        /// <returns>The model.</returns>
        public NormalizingFlowAnomalyModel Fit(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            NormalizingFlowTransformer flow = new NormalizingFlowEstimator(environment, flowOptions).Fit(input);
            float[] scores = flow.HeldOutLogDensities.Select(v => -v).ToArray();
            double quantile = options.ThresholdPercentile is double percentile ? percentile / 100 : 1 - options.Contamination;
            return new NormalizingFlowAnomalyModel(flow, scores, NormalizingFlowAnomalyModel.Quantile(scores, quantile));
        }
    }
}
