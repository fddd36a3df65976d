using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>What a maximum-likelihood fit did: one entry per epoch and the epoch whose parameters were kept.</summary>
    public sealed class TrainingHistory
    {
        internal TrainingHistory(IReadOnlyList<TrainingProgress> epochs, int bestEpoch, bool stoppedEarly)
        {
            Epochs = epochs;
            BestEpoch = bestEpoch;
            StoppedEarly = stoppedEarly;
        }

        /// <summary>The progress after each epoch, in order.</summary>
        public IReadOnlyList<TrainingProgress> Epochs { get; }

        /// <summary>The 1-based epoch whose parameters the model holds (the last epoch when there was no validation data).</summary>
        public int BestEpoch { get; }

        /// <summary>Whether early stopping ended the fit before the epoch limit.</summary>
        public bool StoppedEarly { get; }

        /// <summary>The validation log-likelihood of the kept parameters (mean nats per row), or NaN without validation data.</summary>
        public double BestValidationLogLikelihood =>
            Epochs.Count == 0 ? double.NaN : Epochs[BestEpoch - 1].ValidationLogLikelihood;

        /// <summary>The training log-likelihood of the last epoch (mean nats per row).</summary>
        public double FinalTrainLogLikelihood => Epochs.Count == 0 ? double.NaN : Epochs[^1].TrainLogLikelihood;

        internal JsonObject ToJson() => new()
        {
            ["bestEpoch"] = BestEpoch,
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
            json["bestEpoch"]!.GetValue<int>(), json["stoppedEarly"]!.GetValue<bool>());

        // JSON has no NaN: missing values are written as null.
        private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
    }
}
