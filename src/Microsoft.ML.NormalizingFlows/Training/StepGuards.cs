using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>What every optimizer step of this library shares: the learning-rate schedule and the gradient guard.</summary>
    internal static class StepGuards
    {
        /// <summary>The scheduler for <paramref name="schedule"/> over <paramref name="totalSteps"/> steps, or <c>null</c> for a constant rate.</summary>
        public static optim.lr_scheduler.LRScheduler? Scheduler(OptimizerHelper optimizer, LearningRateSchedule schedule, double learningRate, long totalSteps) =>
            schedule == LearningRateSchedule.Cosine
                ? optim.lr_scheduler.CosineAnnealingLR(optimizer, (int)Math.Clamp(totalSteps, 1, int.MaxValue), learningRate / 100)
                : null;

        /// <summary>
        /// Clips the global gradient norm to <paramref name="clipNorm"/> (0: no clipping, the norm is still measured) and
        /// throws <see cref="TrainingDivergedException"/> when it is not finite.
        /// </summary>
        public static void ClipAndCheck(Parameter[] parameters, double clipNorm, int epoch, long step)
        {
            double norm = nn.utils.clip_grad_norm_(parameters, clipNorm > 0 ? clipNorm : double.PositiveInfinity);
            if (!double.IsFinite(norm)) throw new TrainingDivergedException(epoch, step, "gradient norm", norm);
        }

        /// <summary>The loss as a double; throws <see cref="TrainingDivergedException"/> when it is not finite.</summary>
        public static double CheckedLoss(Tensor loss, int epoch, long step, string what = "loss")
        {
            double value = loss.to_type(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value)) throw new TrainingDivergedException(epoch, step, what, value);
            return value;
        }
    }
}
