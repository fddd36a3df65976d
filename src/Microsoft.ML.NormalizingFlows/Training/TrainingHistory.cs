using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>What a maximum-likelihood fit did: one report per validation interval (per epoch by default) and the report whose parameters were kept.</summary>
    public sealed class TrainingHistory
    {
        private readonly int bestReport;

        internal TrainingHistory(IReadOnlyList<TrainingProgress> reports, int bestReport, bool stoppedEarly, ModelChoice? choice = null)
        {
            Epochs = reports;
            this.bestReport = bestReport;
            StoppedEarly = stoppedEarly;
            Choice = choice;
        }

        /// <summary>What <see cref="FlowPreset.Auto"/> chose and why, or <c>null</c> for a fit of a named preset. The reports are the chosen model's.</summary>
        public ModelChoice? Choice { get; }

        internal TrainingHistory WithChoice(ModelChoice choice) => new(Epochs, bestReport, StoppedEarly, choice);

        /// <summary>The progress reports, in order: one per validation interval (<c>ValidationInterval</c> steps, or each epoch by default).</summary>
        public IReadOnlyList<TrainingProgress> Epochs { get; }

        /// <summary>The report whose parameters the model holds (the last one when there was no validation data), or <c>null</c> without reports.</summary>
        public TrainingProgress? Best => Epochs.Count == 0 ? null : Epochs[bestReport];

        /// <summary>The 1-based epoch of the kept parameters' report (0 without reports).</summary>
        public int BestEpoch => Best?.Epoch ?? 0;

        /// <summary>The optimizer step of the kept parameters' report (0 without reports).</summary>
        public long BestStep => Best?.Steps ?? 0;

        /// <summary>Whether early stopping or the time budget ended the fit before its epoch and step limits.</summary>
        public bool StoppedEarly { get; }

        /// <summary>The validation log-likelihood of the kept parameters (mean nats per row), or NaN without validation data.</summary>
        public double BestValidationLogLikelihood => Best?.ValidationLogLikelihood ?? double.NaN;

        /// <summary>The training log-likelihood of the last report (mean nats per row of the batches since the report before).</summary>
        public double FinalTrainLogLikelihood => Epochs.Count == 0 ? double.NaN : Epochs[^1].TrainLogLikelihood;

        internal JsonObject ToJson() => new()
        {
            ["choice"] = Choice?.ToJson(),
            ["best"] = bestReport,
            ["stoppedEarly"] = StoppedEarly,
            ["epochs"] = new JsonArray(Epochs.Select(e => (JsonNode)new JsonArray(
                e.Epoch, e.MaxEpochs, e.Steps, Finite(e.TrainLogLikelihood), Finite(e.ValidationLogLikelihood), e.IsBest)).ToArray()),
        };

        internal static TrainingHistory FromJson(JsonObject json) => new(
            json["epochs"]!.AsArray().Select(n =>
            {
                JsonArray e = n!.AsArray();
                return new TrainingProgress(e[0]!.GetValue<int>(), e[1]!.GetValue<int>(), e[2]!.GetValue<long>(),
                    e[3]?.GetValue<double>() ?? double.NaN, e[4]?.GetValue<double>() ?? double.NaN, e[5]!.GetValue<bool>());
            }).ToArray(),
            json["best"]?.GetValue<int>() ?? json["bestEpoch"]!.GetValue<int>() - 1, json["stoppedEarly"]!.GetValue<bool>(),
            json["choice"] is JsonObject choice ? ModelChoice.FromJson(choice) : null);

        // JSON has no NaN: missing values are written as null.
        private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
    }
}
