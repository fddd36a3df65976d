namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>How the learning rate changes during a fit.</summary>
    public enum LearningRateSchedule
    {
        /// <summary>The learning rate stays as set.</summary>
        Constant,

        /// <summary>Cosine annealing from the learning rate to 1% of it over <c>MaxEpochs</c> (per step).</summary>
        Cosine,
    }

    /// <summary>Settings of a maximum-likelihood (forward KL) fit with mini-batch Adam. Each range is checked by <see cref="Validate"/>.</summary>
    public sealed class MaximumLikelihoodOptions
    {
        /// <summary>The most passes over the training rows. Range: 1 to 100000. Default 100.</summary>
        public int MaxEpochs { get; set; } = 100;

        /// <summary>Rows per optimizer step. Range: 1 to 1048576. Default 256.</summary>
        public int BatchSize { get; set; } = 256;

        /// <summary>Adam's step size. Range: greater than 0, at most 1. Default 1e-3.</summary>
        public double LearningRate { get; set; } = 1e-3;

        /// <summary>How the learning rate changes over the fit. Default <see cref="LearningRateSchedule.Cosine"/>.</summary>
        public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Cosine;

        /// <summary>The largest allowed global gradient norm; larger gradients are scaled down. 0 turns clipping off. Range: 0 or more. Default 10.</summary>
        public double GradientClipNorm { get; set; } = 10;

        /// <summary>
        /// Stop after this many epochs without a better validation log-likelihood; 0 never stops early. The parameters
        /// of the best epoch are restored at the end in any case. Needs validation rows. Range: 0 or more. Default 10.
        /// </summary>
        public int EarlyStoppingPatience { get; set; } = 10;

        /// <summary>
        /// Robust fitting on contaminated data: the fraction of each batch's rows with the lowest log-density left out of
        /// that step's loss (a trimmed likelihood), so that outliers pull the density less. Range: 0 to 0.5. Default 0.
        /// </summary>
        public double TrimFraction { get; set; }

        /// <summary>Seeds the shuffling of rows, so that a seed gives identical models. Default 0.</summary>
        public int Seed { get; set; }

        /// <summary>
        /// TorchSharp's intra-op thread count during the fit (restored afterwards), or <c>null</c> to leave it as it is.
        /// On small flows one thread is often fastest. Range: 1 or more. Default null.
        /// </summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>Receives a report after each epoch, or <c>null</c>.</summary>
        public IProgress<TrainingProgress>? Progress { get; set; }

        /// <summary>Cancels the fit between optimizer steps.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Receives each progress line as text (the ML.NET estimator routes it to <c>MLContext.Log</c>), or <c>null</c>.</summary>
        public Action<string>? Log { get; set; }

        /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option outside its range.</summary>
        public void Validate()
        {
            Check(MaxEpochs is >= 1 and <= 100_000, nameof(MaxEpochs), MaxEpochs, "from 1 to 100000");
            Check(BatchSize is >= 1 and <= 1 << 20, nameof(BatchSize), BatchSize, "from 1 to 1048576");
            Check(LearningRate > 0 && LearningRate <= 1, nameof(LearningRate), LearningRate, "greater than 0 and at most 1");
            Check(Enum.IsDefined(Schedule), nameof(Schedule), Schedule, "Constant or Cosine");
            Check(GradientClipNorm >= 0 && double.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "0 (off) or a finite positive norm");
            Check(TrimFraction >= 0 && TrimFraction <= 0.5, nameof(TrimFraction), TrimFraction, "from 0 to 0.5");
            Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "0 (off) or more");
            Check(NumberOfThreads is null or >= 1, nameof(NumberOfThreads), NumberOfThreads, "null or at least 1");
        }

        internal static void Check(bool ok, string option, object? value, string range)
        {
            if (!ok) throw new ArgumentOutOfRangeException(option, value, $"Option '{option}' must be {range}; got {value}.");
        }
    }
}
