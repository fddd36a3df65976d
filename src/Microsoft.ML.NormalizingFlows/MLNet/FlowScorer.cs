using Microsoft.ML.NormalizingFlows.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>Scores blocks of rows with a fitted flow: log-densities and, when asked, latents. Thread-safe.</summary>
    internal sealed class FlowScorer
    {
        /// <summary>Rows scored per call when a cursor reads ahead.</summary>
        public const int BlockSize = 1024;

        private readonly NormalizingFlow flow;
        private readonly object gate = new();

        public FlowScorer(NormalizingFlow flow) => this.flow = flow;

        public int Dimension => flow.Dimension;

        /// <summary>Scores <paramref name="count"/> rows from row-major <paramref name="rows"/>.</summary>
        public void Score(ReadOnlySpan<float> rows, int count, Span<float> logDensity, Span<float> latent, bool withLatent)
        {
            if (count == 0) return;
            lock (gate)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                Tensor input = tensor(rows.Slice(0, count * Dimension).ToArray(), new long[] { count, Dimension });
                ScalarType type = flow.ElementType;
                if (type != ScalarType.Float32) input = input.to_type(type);
                (Tensor z, Tensor logDet) = flow.ToLatentWithLogDet(input);
                Tensor density = flow.BaseDistribution.LogProb(z) + logDet;
                density.to_type(ScalarType.Float32).data<float>().CopyTo(logDensity.Slice(0, count));
                if (withLatent) z.to_type(ScalarType.Float32).contiguous().data<float>().CopyTo(latent.Slice(0, count * Dimension));
            }
        }
    }
}
