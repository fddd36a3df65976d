using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A fitted flow anomaly detector: adds <c>Score = -log p(x)</c> (Single, higher is more anomalous) and
    /// <c>PredictedLabel = Score &gt; Threshold</c> (Boolean). Built from ML.NET transformers around the flow, so it
    /// saves and loads with <c>mlContext.Model.Save</c>/<c>Load</c> and works in prediction engines. Disposing it
    /// disposes its flow; models made from it with <see cref="WithThreshold"/> or <see cref="WithContamination"/> own
    /// their own copies and keep working.
    /// </summary>
    public sealed class NormalizingFlowAnomalyModel : ITransformer, IDisposable
    {
        /// <summary>The score column, as ML.NET's anomaly evaluator expects.</summary>
        public const string ScoreColumn = "Score";

        /// <summary>The predicted-label column, as ML.NET's anomaly evaluator expects.</summary>
        public const string PredictedLabelColumn = "PredictedLabel";

        internal const string LogDensityColumn = "NormalizingFlow_AnomalyLogDensity";

        private readonly ITransformer chain;

        internal NormalizingFlowAnomalyModel(NormalizingFlowTransformer flow, float[] heldOutScores, double threshold)
        {
            Flow = flow;
            HeldOutScores = heldOutScores;
            Threshold = threshold;
            MLContext ml = flow.Context;
            // The threshold is written with round-trip precision into the expression, which the zip keeps.
            string literal = ((float)threshold).ToString("R", CultureInfo.InvariantCulture);
            chain = new TransformerChain<ITransformer>(
                flow,
                ml.Transforms.Expression(ScoreColumn, "x => -x", LogDensityColumn).Fit(flow.Transform(EmptyInput(ml, flow))),
                ml.Transforms.Expression(PredictedLabelColumn, $"s => s > {literal}", ScoreColumn).Fit(EmptyScores(ml)),
                ml.Transforms.DropColumns(LogDensityColumn).Fit(EmptyScores(ml)));
        }

        /// <summary>The fitted flow.</summary>
        public NormalizingFlowTransformer Flow { get; }

        /// <summary>The score above which a row is flagged.</summary>
        public double Threshold { get; }

        /// <summary>
        /// The calibration scores, from which thresholds are calibrated: the scores of the rows held out from the fit, or
        /// out-of-fold scores of every training row when the threshold was cross-fitted (<see cref="ThresholdCalibration"/>).
        /// </summary>
        public IReadOnlyList<float> HeldOutScores { get; }

        /// <summary>
        /// A distribution-free 90% interval for the threshold: the calibration scores' order statistics around the
        /// threshold's quantile q at <c>q ± 1.645 sqrt(q (1 - q) / n)</c> (n calibration scores). Wide when n is small.
        /// </summary>
        public (double Low, double High) ThresholdInterval
        {
            get
            {
                if (HeldOutScores.Count == 0) return (double.NaN, double.NaN);
                float[] scores = HeldOutScores.ToArray();
                double q = scores.Count(s => s <= Threshold) / (double)scores.Length;
                double half = 1.645 * Math.Sqrt(q * (1 - q) / scores.Length);
                return (Quantile(scores, Math.Max(0, q - half)), Quantile(scores, Math.Min(1, q + half)));
            }
        }

        /// <summary>True: prediction engines can use this model.</summary>
        public bool IsRowToRowMapper => true;

        /// <summary>
        /// The same model with another threshold (no retraining). The new model holds its own copy of the flow (sharing no
        /// native resources with this one), so either can be disposed without breaking the other.
        /// </summary>
        /// <param name="threshold">The new threshold.</param>
        /// <returns>The model.</returns>
        /// <exception cref="ObjectDisposedException">This model was disposed.</exception>
        public NormalizingFlowAnomalyModel WithThreshold(double threshold)
        {
            if (!double.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be finite.");
            return new NormalizingFlowAnomalyModel(Flow.Copy(), HeldOutScores.ToArray(), threshold);
        }

        /// <summary>Disposes the flow (<see cref="NormalizingFlowTransformer.Dispose"/>); afterwards scoring throws <see cref="ObjectDisposedException"/>.</summary>
        public void Dispose() => Flow.Dispose();

        /// <summary>The same model with the threshold at the <c>(1 - contamination)</c> quantile of the held-out scores.</summary>
        /// <param name="contamination">The fraction of normal rows to flag, 0 to 0.5.</param>
        /// <returns>The model.</returns>
        public NormalizingFlowAnomalyModel WithContamination(double contamination)
        {
            if (!(contamination >= 0 && contamination <= 0.5)) throw new ArgumentOutOfRangeException(nameof(contamination), contamination, "Must be from 0 to 0.5.");
            if (HeldOutScores.Count == 0) throw new InvalidOperationException("This model has no held-out scores to calibrate from; use WithThreshold.");
            return WithThreshold(Quantile(HeldOutScores.ToArray(), 1 - contamination));
        }

        /// <inheritdoc />
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => chain.GetOutputSchema(inputSchema);

        /// <inheritdoc />
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => chain.GetRowToRowMapper(inputSchema);

        /// <inheritdoc />
        public IDataView Transform(IDataView input) => chain.Transform(input);

        /// <summary>Saves the model as its chain of ML.NET transformers (the flow as its ONNX form).</summary>
        /// <param name="ctx">The save context.</param>
        void ICanSaveModel.Save(ModelSaveContext ctx) => chain.Save(ctx);

        /// <summary>The q-quantile of values (linear interpolation between order statistics).</summary>
        internal static double Quantile(float[] values, double q)
        {
            if (values.Length == 0) throw new InvalidOperationException("No held-out rows to calibrate the threshold on; set Flow.ValidationFraction above 0.");
            double[] sorted = values.Select(v => (double)v).OrderBy(v => v).ToArray();
            double position = q * (sorted.Length - 1);
            int low = (int)Math.Floor(position), high = Math.Min(low + 1, sorted.Length - 1);
            return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
        }

        private static IDataView EmptyInput(MLContext ml, NormalizingFlowTransformer flow)
        {
            SchemaDefinition definition = SchemaDefinition.Create(typeof(VectorRow));
            definition[0].ColumnName = flow.FeatureColumnName;
            definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, flow.Dimension);
            return ml.Data.LoadFromEnumerable(new List<VectorRow>(), definition);
        }

        private static IDataView EmptyScores(MLContext ml)
        {
            SchemaDefinition definition = SchemaDefinition.Create(typeof(ScoreRow));
            return ml.Data.LoadFromEnumerable(new List<ScoreRow>(), definition);
        }

        private sealed class VectorRow
        {
            public float[] Features = Array.Empty<float>();
        }

        private sealed class ScoreRow
        {
            [ColumnName(ScoreColumn)]
            public float Score = 0;

            [ColumnName(LogDensityColumn)]
            public float LogDensity = 0;
        }
    }
}
