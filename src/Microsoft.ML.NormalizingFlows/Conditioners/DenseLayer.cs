using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Conditioners
{
    /// <summary>
    /// A fully connected layer's parameters, <c>weight [outputs, inputs]</c> and <c>bias [outputs]</c> (the names
    /// TorchSharp's Linear uses), drawn through <see cref="ParameterInitialization"/> with PyTorch's default
    /// (uniform within 1/sqrt(inputs), drawn as TorchSharp's Linear draws them: weight, then bias), or zero. Unlike
    /// TorchSharp's Linear it draws nothing from the global generator.
    /// </summary>
    internal sealed class DenseLayer : nn.Module
    {
        private readonly Parameter weight;
        private readonly Parameter bias;

        public DenseLayer(int inputs, int outputs, bool zeroInitialized) : base(nameof(DenseLayer))
        {
            // A zero layer draws too (and discards the draws), as TorchSharp's Linear followed by zeroing did: the layers
            // after it get the same draws, so a seed gives the flow it gave before this class replaced Linear.
            double bound = 1 / Math.Sqrt(inputs);
            Tensor w = ParameterInitialization.Uniform(new long[] { outputs, inputs }, bound);
            Tensor b = ParameterInitialization.Uniform(new long[] { outputs }, bound);
            if (zeroInitialized)
            {
                w.zero_();
                b.zero_();
            }
            weight = new Parameter(w);
            bias = new Parameter(b);
            RegisterComponents();
        }

        public Parameter Weight => weight;

        public Parameter Bias => bias;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                weight.Dispose();
                bias.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
