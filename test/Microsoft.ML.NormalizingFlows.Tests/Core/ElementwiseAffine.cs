using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>The custom layer of the README and of FlowLayer's documentation, kept here so that the example is tested.</summary>
    public sealed class ElementwiseAffine : FlowLayer
    {
        private readonly Parameter shift, logScale;

        /// <summary>Creates the layer at the identity.</summary>
        public ElementwiseAffine(int dimension) : base(nameof(ElementwiseAffine), dimension)
        {
            shift = new Parameter(torch.zeros(dimension));
            logScale = new Parameter(torch.zeros(dimension));
            RegisterComponents();
        }

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor x) =>
            ((x - shift) * torch.exp(-logScale), (-logScale.sum()).expand(x.shape[0]));

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor z) =>
            (z * torch.exp(logScale) + shift, logScale.sum().expand(z.shape[0]));
    }
}
