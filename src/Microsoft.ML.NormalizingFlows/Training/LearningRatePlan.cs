namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>
    /// The learning rate of each optimizer step of a maximum-likelihood fit: a linear warm-up from 0 over the first
    /// <c>WarmupSteps</c>, then constant, cosine-annealed to 1% at the step budget, or halved (down to 1%) whenever
    /// <see cref="PlateauReports"/> validation reports in a row bring no better validation log-likelihood.
    /// </summary>
    internal sealed class LearningRatePlan
    {
        /// <summary>Validation reports without improvement before the plateau schedule halves the rate.</summary>
        public const int PlateauReports = 3;

        private readonly LearningRateSchedule schedule;
        private readonly double rate;
        private readonly long warmup;
        private readonly long budget;
        private double plateauRate;
        private int reportsWithoutImprovement;

        public LearningRatePlan(LearningRateSchedule schedule, double rate, long warmupSteps, long budget)
        {
            this.schedule = schedule;
            this.rate = rate;
            warmup = Math.Min(warmupSteps, budget);
            this.budget = budget;
            plateauRate = rate;
        }

        /// <summary>The rate of the step after <paramref name="stepsTaken"/> steps.</summary>
        public double At(long stepsTaken)
        {
            if (stepsTaken < warmup) return rate * (stepsTaken + 1) / warmup;
            return schedule switch
            {
                LearningRateSchedule.Cosine => rate / 100 + (rate - rate / 100) * (1 + Math.Cos(Math.PI * (stepsTaken - warmup) / Math.Max(1, budget - warmup))) / 2,
                LearningRateSchedule.ReduceOnPlateau => plateauRate,
                _ => rate,
            };
        }

        /// <summary>Takes a validation report into account (the plateau schedule's only input).</summary>
        public void Observe(bool improved)
        {
            reportsWithoutImprovement = improved ? 0 : reportsWithoutImprovement + 1;
            if (schedule != LearningRateSchedule.ReduceOnPlateau || reportsWithoutImprovement < PlateauReports) return;
            plateauRate = Math.Max(rate / 100, plateauRate / 2);
            reportsWithoutImprovement = 0;
        }
    }
}
