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
    }
}
