using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>
    /// An exponential moving average of the parameters (Polyak averaging), updated after each step with the decay
    /// <c>min(decay, (1 + t) / (10 + t))</c> at step t, so that the average of a short fit is not held back by its first
    /// steps. It starts from the parameters after the first step (after data-dependent initializations such as ActNorm's).
    /// </summary>
    internal sealed class ParameterAverage
    {
        private readonly Parameter[] parameters;
        private readonly double decay;
        private Tensor[]? average;

        public ParameterAverage(Parameter[] parameters, double decay)
        {
            this.parameters = parameters;
            this.decay = decay;
        }

        /// <summary>The averaged values (the parameters themselves before the first update).</summary>
        public IReadOnlyList<Tensor> Values => average ?? (IReadOnlyList<Tensor>)parameters;

        public void Update(long step)
        {
            using var noGrad = no_grad();
            if (average is null)
            {
                average = parameters.Select(p => p.detach().clone()).ToArray();
                return;
            }
            double d = Math.Min(decay, (1.0 + step) / (10.0 + step));
            for (int i = 0; i < parameters.Length; i++) average[i].mul_(d).add_(parameters[i].detach(), alpha: 1 - d);
        }

        /// <summary>Runs <paramref name="action"/> with the averaged values in the parameters, then puts the trained values back.</summary>
        public T WithAverage<T>(Func<T> action)
        {
            if (average is null) return action();
            using var noGrad = no_grad();
            Tensor[] trained = parameters.Select(p => p.detach().clone()).ToArray();
            try
            {
                for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(average[i]);
                return action();
            }
            finally
            {
                for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(trained[i]);
                foreach (Tensor t in trained) t.Dispose();
            }
        }
    }
}
