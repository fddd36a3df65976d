using Microsoft.ML.NormalizingFlows.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// The training rows' per-slot mean and standard deviation (integer slots as dequantized: shifted by 1/2, with the
    /// uniform noise's variance 1/12 added), and the slots the rows determine exactly: a spread at most one float32 step
    /// of the values (1e-7 |mean|, at least 1e-30) is a constant, and a real slot equal to an earlier one in every row is
    /// a repeat. Such a slot has no density; the estimator's flow makes it a point mass (<see cref="PointMassSlots"/>).
    /// </summary>
    internal sealed class SlotStatistics
    {
        // The smallest spread a slot may have, relative to its mean (one float32 step) and in absolute terms (float32's normal range).
        internal const double MinimumRelativeSpread = 1e-7;
        internal const double MinimumSpread = 1e-30;

        // A determined slot's tolerance, in float32 steps of its value: rows within it hold the value.
        private const double ToleranceSteps = 8;

        private SlotStatistics(double[] mean, double[] scale, int[] determined, int[] sources, double[] tolerances)
        {
            Mean = mean;
            Scale = scale;
            DeterminedSlots = determined;
            Sources = sources;
            Tolerances = tolerances;
        }

        /// <summary>Per-slot means (a constant slot's value).</summary>
        public double[] Mean { get; }

        /// <summary>Per-slot standard deviations.</summary>
        public double[] Scale { get; }

        /// <summary>The determined slots, increasing.</summary>
        public int[] DeterminedSlots { get; }

        /// <summary>For each determined slot, -1 (a constant) or the slot it repeats.</summary>
        public int[] Sources { get; }

        /// <summary>Each determined slot's tolerance.</summary>
        public double[] Tolerances { get; }

        /// <summary>
        /// Statistics from per-slot means and sums of squared deviations over <paramref name="n"/> rows; <paramref name="identical"/>
        /// says whether two slots hold the same value in every training row (null when the rows are not at hand: no repeats found).
        /// </summary>
        public static SlotStatistics From(double[] mean, double[] squares, long n, float[] integerMask, Func<int, int, bool>? identical)
        {
            int d = mean.Length;
            var scale = new double[d];
            var source = Enumerable.Repeat(int.MinValue, d).ToArray(); // int.MinValue: modelled; -1: constant; else the repeated slot
            var tolerance = new double[d];
            for (int j = 0; j < d; j++)
            {
                double variance = squares[j] / (n - 1);
                if (integerMask[j] != 0)
                {
                    mean[j] += 0.5;
                    variance += 1.0 / 12;
                }
                scale[j] = Math.Sqrt(variance);
                // Relative to the values' own float32 resolution, not to an absolute threshold: a real spread of 1e-13
                // around 0 is a density; a spread below one float32 step of the values is not.
                double resolution = Math.Max(MinimumRelativeSpread * Math.Abs(mean[j]), MinimumSpread);
                tolerance[j] = ToleranceSteps * resolution;
                if (!(scale[j] > resolution) || !double.IsFinite(scale[j])) source[j] = -1;
            }
            // Integer slots are dequantized with independent noise, so only real slots can repeat one another.
            for (int j = 0; j < d && identical is not null; j++)
            {
                if (source[j] != int.MinValue || integerMask[j] != 0) continue;
                for (int i = 0; i < j; i++)
                {
                    if (source[i] != int.MinValue || integerMask[i] != 0 || mean[i] != mean[j] || scale[i] != scale[j] || !identical(i, j)) continue;
                    source[j] = i;
                    break;
                }
            }
            int[] determined = Enumerable.Range(0, d).Where(j => source[j] != int.MinValue).ToArray();
            return new SlotStatistics(mean, scale, determined, determined.Select(j => source[j]).ToArray(), determined.Select(j => tolerance[j]).ToArray());
        }

        /// <summary>
        /// The estimator's flow: the determined slots' point masses first (when there are any), then the standardization
        /// of the other slots and the preset's layers over them.
        /// </summary>
        public NormalizingFlow CreateFlow(FlowArchitecture architecture, int seed, ScalarType type, int contextWidth)
        {
            int[] kept = Enumerable.Range(0, Mean.Length).Where(j => Array.BinarySearch(DeterminedSlots, j) < 0).ToArray();
            var standardization = new Standardization(kept.Select(j => Mean[j]).ToArray(), kept.Select(j => Scale[j]).ToArray());
            NormalizingFlow flow = FlowFactory.Create(kept.Length, architecture, seed, standardization, type, contextWidth);
            if (DeterminedSlots.Length == 0) return flow;
            var pointMasses = new PointMassSlots(Mean.Length, DeterminedSlots, Sources, DeterminedSlots.Select(j => Mean[j]).ToArray(), Tolerances);
            var withPointMasses = new NormalizingFlow(flow.BaseDistribution, new FlowLayer[] { pointMasses }.Concat(flow.Layers));
            if (type != ScalarType.Float32) withPointMasses.to(type);
            return withPointMasses;
        }
    }
}
