using Microsoft.ML.NormalizingFlows.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.NormalizingFlows
{
    public sealed partial class NormalizingFlowEstimator
    {
        // Auto's short fits each get this share of the budget (a quarter: the reason Auto reports says so) (epochs, steps; a time budget is split so that the chosen
        // model's fit keeps half of it): with three candidates, Auto costs about 1.75 single fits.
        private const double ProbeShare = 0.25;

        // Small data: fewer optimizer steps per epoch than this at the requested batch size.
        internal const int SmallDataStepsPerEpoch = 8;

        // The small-data regime's smallest batch and its least weight decay (measured in the README's small-data table).
        internal const int SmallDataMinimumBatch = 32;
        internal const double SmallDataWeightDecay = 0.1;

        // Auto: spline coupling layers; the small-data settings when they apply; then, when there is more than one base to
        // try and validation rows to judge by, short fits of each candidate, keeping the best by validation log-likelihood.
        private (Options Chosen, ModelChoice Choice) ChooseModel(FitSetup setup, bool tabular)
        {
            Options common = options.Clone();
            common.Preset = FlowPreset.NeuralSplineCoupling;
            var reasons = new List<string>();
            long rows = setup.Batches.TrainingRows;
            long stepsPerEpoch = (rows + options.BatchSize - 1) / options.BatchSize;
            if (stepsPerEpoch < SmallDataStepsPerEpoch)
            {
                common.BatchSize = (int)Math.Min(options.BatchSize, Math.Max(SmallDataMinimumBatch, (rows + SmallDataStepsPerEpoch - 1) / SmallDataStepsPerEpoch));
                common.WeightDecay = Math.Max(options.WeightDecay, SmallDataWeightDecay);
                reasons.Add(FormattableString.Invariant($"small data ({rows} training rows, {stepsPerEpoch} step(s) per epoch at BatchSize {options.BatchSize}): ") +
                    FormattableString.Invariant($"batches of {common.BatchSize} rows and weight decay {common.WeightDecay}"));
            }

            var candidates = new List<(string Description, Options Options)>();
            if (tabular || options.BaseDistribution != BaseDistributionKind.StandardNormal)
            {
                string kept = tabular ? "the conditional Gaussian base (several columns, a label or context)" : $"the {options.BaseDistribution} base asked for";
                candidates.Add(($"spline coupling, {kept}", common));
            }
            else
            {
                foreach (int k in new[] { options.MixtureComponents, options.MixtureComponents / 2 }.Where(k => k >= 1 && k <= setup.InitRows.shape[0]).Distinct())
                {
                    Options mixture = common.Clone();
                    mixture.BaseDistribution = BaseDistributionKind.GaussianMixture;
                    mixture.MixtureComponents = k;
                    candidates.Add(($"spline coupling, {k}-component mixture base", mixture));
                }
                candidates.Add(("spline coupling, standard-normal base", common));
            }

            if (candidates.Count == 1 || !setup.Batches.HasValidation)
            {
                if (candidates.Count > 1) reasons.Add("no validation rows to compare candidates by (ValidationFraction = 0): the first candidate");
                return Chosen(candidates[0], reasons, Array.Empty<CandidateFit>(), setup.Channel);
            }

            var fits = new List<CandidateFit>();
            Exception? lastFailure = null;
            foreach ((string description, Options candidate) in candidates)
            {
                Options probe = candidate.Clone();
                probe.MaxEpochs = Math.Max(1, (int)Math.Ceiling(candidate.MaxEpochs * ProbeShare));
                probe.MaxSteps = candidate.MaxSteps is long steps ? Math.Max(1, (long)(steps * ProbeShare)) : null;
                probe.TimeBudget = candidate.TimeBudget / (2 * candidates.Count);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    FittedFlow fitted = FitFlow(probe, setup, log: _ => { }, progress: null);
                    fitted.Dispose();
                    fits.Add(new CandidateFit(description, fitted.History.BestValidationLogLikelihood, fitted.History.Epochs.LastOrDefault()?.Steps ?? 0, clock.Elapsed.TotalSeconds));
                }
                catch (TrainingDivergedException e)
                {
                    lastFailure = e;
                    fits.Add(new CandidateFit(description, double.NaN, 0, clock.Elapsed.TotalSeconds));
                }
                setup.Channel.Info(MessageSensitivity.None, FormattableString.Invariant(
                    $"Auto: {description}: validation log-likelihood {fits[^1].ValidationLogLikelihood:F4} after {fits[^1].Steps} steps ({fits[^1].Seconds:F1} s)."));
            }
            int best = Enumerable.Range(0, fits.Count).Where(i => double.IsFinite(fits[i].ValidationLogLikelihood))
                .OrderByDescending(i => fits[i].ValidationLogLikelihood).ThenBy(i => i).DefaultIfEmpty(-1).First();
            if (best < 0)
                throw lastFailure!;
            reasons.Add($"the best validation log-likelihood of {fits.Count} short fits (a quarter of the budget each): " +
                string.Join(", ", fits.Select(f => FormattableString.Invariant($"{f.Description} {f.ValidationLogLikelihood:F4}"))));
            return Chosen(candidates[best], reasons, fits, setup.Channel);
        }

        private static (Options, ModelChoice) Chosen((string Description, Options Options) candidate, List<string> reasons, IReadOnlyList<CandidateFit> fits, IChannel channel)
        {
            string reason = reasons.Count == 0 ? "the only candidate" : string.Join("; ", reasons);
            channel.Info(MessageSensitivity.None, $"Auto chose {candidate.Description}: {reason}.");
            return (candidate.Options, new ModelChoice(candidate.Description, reason, fits));
        }
    }
}
