namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>The state of a maximum-likelihood fit at a validation report (after each epoch by default).</summary>
    /// <param name="Epoch">The 1-based epoch the report falls in.</param>
    /// <param name="MaxEpochs">The most epochs the fit will run.</param>
    /// <param name="Steps">Optimizer steps taken so far.</param>
    /// <param name="TrainLogLikelihood">Mean log-likelihood per row of the training batches since the previous report (nats, data units).</param>
    /// <param name="ValidationLogLikelihood">Mean log-likelihood per validation row at this report, or NaN without validation rows.</param>
    /// <param name="IsBest">Whether this report has the best validation log-likelihood so far.</param>
    public sealed record TrainingProgress(
        int Epoch, int MaxEpochs, long Steps, double TrainLogLikelihood, double ValidationLogLikelihood, bool IsBest)
    {
        /// <summary>A one-line description, as written to the log.</summary>
        /// <returns>The line.</returns>
        public override string ToString() =>
            double.IsNaN(ValidationLogLikelihood)
                ? $"epoch {Epoch}/{MaxEpochs}, step {Steps}: train log-likelihood {TrainLogLikelihood:F4}"
                : $"epoch {Epoch}/{MaxEpochs}, step {Steps}: train log-likelihood {TrainLogLikelihood:F4}, validation {ValidationLogLikelihood:F4}{(IsBest ? " (best)" : "")}";
    }
}
