using Microsoft.ML.NormalizingFlows.Tabular;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// What cursors and rows of a fitted flow score and sample with: the ONNX Runtime scorer, the tabular model (when the
    /// flow reads several columns or is conditioned) and the sampler of the sample column. Every call goes through the
    /// transformer's <see cref="UsageGate"/>, so scoring a data view or a prediction engine after the transformer was
    /// disposed throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    internal sealed class FlowRuntime
    {
        private readonly FlowScorer scorer;
        private readonly FlowSampler sampler;
        private long graphRuns;

        public FlowRuntime(UsageGate gate, FlowScorer scorer, TabularModel? tabular, FlowSampler sampler, double sampleTemperature, int sampleSeed)
        {
            Gate = gate;
            this.scorer = scorer;
            Tabular = tabular;
            this.sampler = sampler;
            SampleTemperature = sampleTemperature;
            SampleSeed = sampleSeed;
        }

        public UsageGate Gate { get; }

        public TabularModel? Tabular { get; }

        public double SampleTemperature { get; }

        public int SampleSeed { get; }

        public int Dimension => scorer.Dimension;

        public int ContextWidth => Tabular?.Codec.ContextWidth ?? 0;

        /// <summary>Whether <see cref="Sample"/> reads a uniform per row (<see cref="FlowSampler.ReadsUniforms"/>).</summary>
        public bool ReadsUniforms
        {
            get
            {
                using UsageGate.Lease lease = Gate.Enter();
                return sampler.ReadsUniforms;
            }
        }

        /// <summary>How many times <see cref="Score"/> ran the graph (for tests of how often rows are scored).</summary>
        public long GraphRuns => Interlocked.Read(ref graphRuns);

        /// <summary><see cref="FlowScorer.Score"/>, inside the gate.</summary>
        public void Score(float[] rows, float[] context, int count, float[] logDensity, float[] latent, bool withLatent)
        {
            using UsageGate.Lease lease = Gate.Enter();
            scorer.Score(rows, context, count, logDensity, latent, withLatent);
            if (count > 0) Interlocked.Increment(ref graphRuns);
        }

        /// <summary><see cref="FlowSampler.Sample"/>, inside the gate.</summary>
        public void Sample(ReadOnlySpan<double> noise, ReadOnlySpan<double> uniforms, ReadOnlySpan<float> context, int count, double temperature, Span<float> output)
        {
            using UsageGate.Lease lease = Gate.Enter();
            sampler.Sample(noise, uniforms, context, count, temperature, output);
        }
    }
}
