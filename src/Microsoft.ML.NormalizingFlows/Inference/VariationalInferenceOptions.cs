using Microsoft.ML.NormalizingFlows.Training;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>Settings of a variational fit. Each range is checked by <see cref="Validate"/>.</summary>
    public sealed class VariationalInferenceOptions
    {
        /// <summary>Optimizer steps. Range: 1 to 10000000. Default 2000.</summary>
        public int Iterations { get; set; } = 2000;

        /// <summary>Draws of the flow per step (the batch of the Monte Carlo estimate). Range: 1 to 1048576. Default 64.</summary>
        public int SamplesPerStep { get; set; } = 64;

        /// <summary>Adam's step size. Range: greater than 0, at most 1. Default 1e-3.</summary>
        public double LearningRate { get; set; } = 1e-3;

        /// <summary>How the learning rate changes over the iterations. Default <see cref="LearningRateSchedule.Cosine"/>.</summary>
        public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Cosine;

        /// <summary>The largest allowed global gradient norm; 0 turns clipping off. Range: 0 or more. Default 10.</summary>
        public double GradientClipNorm { get; set; } = 10;

        /// <summary>Steps between two progress reports (each averages the steps since the last). Range: 1 or more. Default 100.</summary>
        public int ReportEvery { get; set; } = 100;

        /// <summary>Seeds the draws, so that a seed gives an identical fit. Default 0.</summary>
        public int Seed { get; set; }

        /// <summary>
        /// TorchSharp's thread count during the fit (process-wide, restored when the last fit using it ends; concurrent fits
        /// asking for different counts run one after another), or <c>null</c> to leave it. Range: 1 or more.
        /// </summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>Receives each report, or <c>null</c>.</summary>
        public IProgress<VariationalProgress>? Progress { get; set; }

        /// <summary>Called with each report; returning true stops the fit early (for example when the ELBO stops improving).</summary>
        public Func<VariationalProgress, bool>? StopWhen { get; set; }

        /// <summary>Cancels the fit between steps.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Receives each report as text, or <c>null</c>.</summary>
        public Action<string>? Log { get; set; }

        /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option outside its range.</summary>
        public void Validate()
        {
            MaximumLikelihoodOptions.Check(Iterations is >= 1 and <= 10_000_000, nameof(Iterations), Iterations, "from 1 to 10000000");
            MaximumLikelihoodOptions.Check(SamplesPerStep is >= 1 and <= 1 << 20, nameof(SamplesPerStep), SamplesPerStep, "from 1 to 1048576");
            MaximumLikelihoodOptions.Check(LearningRate > 0 && LearningRate <= 1, nameof(LearningRate), LearningRate, "greater than 0 and at most 1");
            MaximumLikelihoodOptions.Check(Enum.IsDefined(Schedule), nameof(Schedule), Schedule, "Constant or Cosine");
            MaximumLikelihoodOptions.Check(GradientClipNorm >= 0 && double.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "0 (off) or a finite positive norm");
            MaximumLikelihoodOptions.Check(ReportEvery >= 1, nameof(ReportEvery), ReportEvery, "at least 1");
            MaximumLikelihoodOptions.Check(NumberOfThreads is null or >= 1, nameof(NumberOfThreads), NumberOfThreads, "null or at least 1");
        }
    }

    /// <summary>A variational fit's state at a report.</summary>
    /// <param name="Iteration">Steps taken so far.</param>
    /// <param name="Iterations">The steps the fit will take at most.</param>
    /// <param name="Elbo">The mean ELBO estimate (mean log importance weight) over the steps since the last report.</param>
    /// <param name="Loss">The mean objective value over the same steps.</param>
    public sealed record VariationalProgress(int Iteration, int Iterations, double Elbo, double Loss)
    {
        /// <summary>A one-line description, as written to the log.</summary>
        /// <returns>The line.</returns>
        public override string ToString() => $"iteration {Iteration}/{Iterations}: ELBO {Elbo:F4}, loss {Loss:F4}";
    }

    /// <summary>The reports of a variational fit, in order.</summary>
    /// <param name="Reports">The reports.</param>
    /// <param name="StoppedEarly">Whether <see cref="VariationalInferenceOptions.StopWhen"/> ended the fit.</param>
    public sealed record VariationalHistory(IReadOnlyList<VariationalProgress> Reports, bool StoppedEarly);
}
