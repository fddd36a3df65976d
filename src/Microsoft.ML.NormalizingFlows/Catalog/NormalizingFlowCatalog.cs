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
            FlowPreset preset = FlowPreset.NeuralSplineCoupling,
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

        /// <summary>A normalizing flow fitted by maximum likelihood, configured by <paramref name="options"/>.</summary>
        /// <param name="catalog">The transforms catalog.</param>
        /// <param name="options">The options; validated here.</param>
        /// <returns>The estimator.</returns>
        public static NormalizingFlowEstimator NormalizingFlow(this TransformsCatalog catalog, NormalizingFlowEstimator.Options options) =>
            new(CatalogEnvironment.Get(catalog), options);
    }
}
