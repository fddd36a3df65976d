using Microsoft.ML.NormalizingFlows.Tabular;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// What cursors and rows of a fitted flow score and sample with: the ONNX Runtime scorer, the tabular model (when the
    /// flow reads several columns or is conditioned) and the sampler of the sample column.
    /// </summary>
    internal sealed class FlowRuntime
    {
        public FlowRuntime(FlowScorer scorer, TabularModel? tabular, FlowSampler sampler, double sampleTemperature, int sampleSeed)
        {
            Scorer = scorer;
            Tabular = tabular;
            Sampler = sampler;
            SampleTemperature = sampleTemperature;
            SampleSeed = sampleSeed;
        }

        public FlowScorer Scorer { get; }

        public TabularModel? Tabular { get; }

        public FlowSampler Sampler { get; }

        public double SampleTemperature { get; }

        public int SampleSeed { get; }

        public int Dimension => Scorer.Dimension;

        public int ContextWidth => Tabular?.Codec.ContextWidth ?? 0;
    }
}
