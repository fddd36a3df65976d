using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Training;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A fitted normalizing flow. <see cref="Transform"/> adds a Single column with each row's log-density (natural
    /// log, in the data's own units) and, when configured, a vector column with each row's latent value. Rows are
    /// scored many at a time.
    /// </summary>
    public sealed class NormalizingFlowTransformer : ITransformer, IDisposable
    {
        private readonly FlowScorer scorer;

        internal NormalizingFlowTransformer(
            NormalizingFlow flow, TrainingHistory history, string featureColumnName, string logDensityColumnName, string? latentColumnName)
        {
            Flow = flow;
            TrainingHistory = history;
            FeatureColumnName = featureColumnName;
            LogDensityColumnName = logDensityColumnName;
            LatentColumnName = latentColumnName;
            scorer = new FlowScorer(flow);
        }

        /// <summary>The fitted flow (standardization first), for sampling or direct TorchSharp use.</summary>
        public NormalizingFlow Flow { get; }

        /// <summary>What the fit did, epoch by epoch.</summary>
        public TrainingHistory TrainingHistory { get; }

        /// <summary>The input column the flow reads.</summary>
        public string FeatureColumnName { get; }

        /// <summary>The column of log-densities this transformer adds.</summary>
        public string LogDensityColumnName { get; }

        /// <summary>The column of latent values this transformer adds, or <c>null</c> when it adds none.</summary>
        public string? LatentColumnName { get; }

        /// <summary>The number of features per row.</summary>
        public int Dimension => Flow.Dimension;

        /// <summary>True: prediction engines can use this transformer.</summary>
        public bool IsRowToRowMapper => true;

        /// <summary>The schema <see cref="Transform"/> produces from <paramref name="inputSchema"/>.</summary>
        /// <param name="inputSchema">The input schema; it must hold the feature column with <see cref="Dimension"/> values.</param>
        /// <returns>The output schema.</returns>
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => new FlowOutputSchema(inputSchema, this).Output;

        /// <summary>Adds the log-density (and latent) columns to <paramref name="input"/>, computed lazily in blocks of rows.</summary>
        /// <param name="input">The data; it must hold the feature column with <see cref="Dimension"/> values.</param>
        /// <returns>The data with the added columns.</returns>
        public IDataView Transform(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            return new FlowDataView(input, new FlowOutputSchema(input.Schema, this), scorer);
        }

        /// <summary>A row-to-row mapper over <paramref name="inputSchema"/>, as prediction engines use.</summary>
        /// <param name="inputSchema">The input schema.</param>
        /// <returns>The mapper.</returns>
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
            new FlowRowMapper(new FlowOutputSchema(inputSchema, this), scorer);

        /// <summary>Not supported yet: saving a flow inside an ML.NET model zip needs its ONNX form.</summary>
        /// <param name="ctx">The save context.</param>
        void ICanSaveModel.Save(ModelSaveContext ctx) =>
            throw new NotSupportedException("Saving a NormalizingFlowTransformer with mlContext.Model.Save is not supported in this " +
                "version of Microsoft.ML.NormalizingFlows. Keep the fitted transformer in memory, or save its Flow's parameters " +
                "with TorchSharp (Flow.save).");

        /// <summary>Releases the flow's native tensors.</summary>
        public void Dispose() => Flow.Dispose();
    }
}
