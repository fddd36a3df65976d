using Microsoft.ML.NormalizingFlows;

namespace Microsoft.ML
{
    /// <summary>Normalizing-flow extensions of ML.NET's catalogs.</summary>
    public static class NormalizingFlowCatalog
    {
        /// <summary>
        /// A normalizing flow fitted by maximum likelihood to <paramref name="featureColumnName"/>; the fitted model adds
        /// each row's log-density as <paramref name="logDensityColumnName"/>.
        /// </summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="featureColumnName">The input column, a known-size vector of Single.</param>
        /// <param name="logDensityColumnName">The added Single column of log-densities (natural log, data units).</param>
        /// <param name="preset">The architecture.</param>
        /// <param name="numberOfLayers">The number of transform layers, 1 to 64.</param>
        /// <param name="maxEpochs">The most passes over the training rows, 1 to 100000.</param>
        /// <param name="seed">Seeds every random choice of the fit.</param>
        /// <returns>The estimator.</returns>
        /// <example>
        /// <code language="csharp">
        /// var pipeline = mlContext.Transforms.Concatenate("Features", "X", "Y")
        ///     .Append(mlContext.Transforms.NormalizingFlow("Features"));
        /// var model = pipeline.Fit(data);
        /// IDataView scored = model.Transform(data); // adds "LogDensity"
        /// </code>
        /// </example>
        public static NormalizingFlowEstimator NormalizingFlow(
            this TransformsCatalog catalog,
            string featureColumnName = NormalizingFlowEstimator.DefaultColumnNames.Features,
            string logDensityColumnName = NormalizingFlowEstimator.DefaultColumnNames.LogDensity,
            FlowPreset preset = FlowPreset.Auto,
            int numberOfLayers = 5,
            int maxEpochs = 100,
            int seed = 0) =>
            catalog.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                FeatureColumnName = featureColumnName,
                LogDensityColumnName = logDensityColumnName,
                Preset = preset,
                NumberOfLayers = numberOfLayers,
                MaxEpochs = maxEpochs,
                Seed = seed,
            });

        /// <summary>
        /// Anomaly detection by a normalizing flow's log-density: <c>Score = -log p(x)</c>, <c>PredictedLabel</c> when the
        /// score is above a threshold calibrated so that about <paramref name="contamination"/> of held-out normal rows are
        /// flagged. Works with <c>mlContext.AnomalyDetection.Evaluate</c>.
        /// </summary>
        /// <param name="catalog">The anomaly-detection trainers catalog.</param>
        /// <param name="featureColumnName">The input column, a known-size vector of Single.</param>
        /// <param name="contamination">The expected fraction of anomalies, 0 to 0.5.</param>
        /// <param name="seed">Seeds every random choice of the fit.</param>
        /// <returns>The estimator.</returns>
        public static NormalizingFlowAnomalyEstimator NormalizingFlow(
            this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog,
            string featureColumnName = NormalizingFlowEstimator.DefaultColumnNames.Features,
            double contamination = 0.05,
            int seed = 0) =>
            catalog.NormalizingFlow(new NormalizingFlowAnomalyEstimator.Options
            {
                FeatureColumnName = featureColumnName,
                Contamination = contamination,
                Flow = new NormalizingFlowEstimator.Options { ValidationFraction = 0.2, Seed = seed },
            });

        /// <summary>Anomaly detection by a normalizing flow, configured by <paramref name="options"/>.</summary>
        /// <param name="catalog">The anomaly-detection trainers catalog.</param>
        /// <param name="options">The options; validated here.</param>
        /// <returns>The estimator.</returns>
        public static NormalizingFlowAnomalyEstimator NormalizingFlow(this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog,
            NormalizingFlowAnomalyEstimator.Options options) =>
            new(CatalogEnvironment.Get(catalog), options);

        /// <summary>A normalizing flow fitted by maximum likelihood, configured by <paramref name="options"/>.</summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="options">The options; validated here.</param>
        /// <returns>The estimator.</returns>
        public static NormalizingFlowEstimator NormalizingFlow(this TransformsCatalog catalog, NormalizingFlowEstimator.Options options) =>
            new(CatalogEnvironment.Get(catalog), options);
    }
}
