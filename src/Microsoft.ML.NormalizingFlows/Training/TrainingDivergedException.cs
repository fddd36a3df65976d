namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>
    /// Thrown when training produces a non-finite loss or gradient. No model is returned, since its parameters are
    /// no longer meaningful.
    /// </summary>
    public sealed class TrainingDivergedException : InvalidOperationException
    {
        /// <summary>Creates the exception for the step at which training diverged.</summary>
        /// <param name="epoch">The 1-based epoch.</param>
        /// <param name="step">The 1-based optimizer step, counted over the whole run.</param>
        /// <param name="what">What turned non-finite, for example "loss" or "gradient norm".</param>
        /// <param name="value">The non-finite value.</param>
        public TrainingDivergedException(int epoch, long step, string what, double value)
            : base($"Training diverged at epoch {epoch}, step {step}: the {what} is {value}. Lower the learning rate " +
                   "(LearningRate), set a gradient clipping norm (GradientClipNorm), lower the log-scale bound, or check the " +
                   "data for extreme values.")
        {
            Epoch = epoch;
            Step = step;
        }

        /// <summary>The 1-based epoch at which training diverged.</summary>
        public int Epoch { get; }

        /// <summary>The 1-based optimizer step at which training diverged.</summary>
        public long Step { get; }
    }
}
