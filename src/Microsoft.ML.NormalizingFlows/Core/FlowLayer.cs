using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// One invertible layer of a normalizing flow. <b>Direction convention</b> (used everywhere in this library):
    /// <see cref="Forward(Tensor)"/> maps data towards the latent space (the density direction) and <see cref="Inverse(Tensor)"/>
    /// maps latent values towards the data space (the sampling direction). Both return the natural logarithm of the
    /// absolute determinant of the Jacobian of the map they apply, one value per row. A conditional layer
    /// (<see cref="ContextWidth"/> above 0) also reads a context per row, which only its conditioner sees.
    /// </summary>
    /// <remarks>
    /// This class is the extension point for custom layers. A layer receives and returns tensors of shape
    /// <c>[N, Dimension]</c>, registers its trainable tensors as parameters (call <c>RegisterComponents()</c> at the end
    /// of the constructor) and must satisfy <c>Inverse(Forward(x).Output).Output == x</c> and
    /// <c>Forward(x).LogAbsDetJacobian == -Inverse(Forward(x).Output).LogAbsDetJacobian</c>. A layer written this way
    /// trains and samples; to export it to ONNX as well, derive from <see cref="ExportableFlowLayer"/> instead and
    /// write the map once.
    /// For example, a learned element-wise shift and log-scale, <c>y = (x - b) * exp(-s)</c>:
    /// <code language="csharp">
    /// public sealed class ElementwiseAffine : FlowLayer
    /// {
    ///     private readonly Parameter shift, logScale;
    ///     public ElementwiseAffine(int dimension) : base(nameof(ElementwiseAffine), dimension)
    ///     {
    ///         shift = new Parameter(torch.zeros(dimension));
    ///         logScale = new Parameter(torch.zeros(dimension));
    ///         RegisterComponents();
    ///     }
    ///     public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor x) =>
    ///         ((x - shift) * torch.exp(-logScale), (-logScale.sum()).expand(x.shape[0]));
    ///     public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor z) =>
    ///         (z * torch.exp(logScale) + shift, logScale.sum().expand(z.shape[0]));
    /// }
    /// </code>
    /// The library's tests check each built-in layer against these rules (round trip, and the log-determinant against
    /// an autodiff Jacobian); run the same checks on your own layer.
    /// </remarks>
    public abstract class FlowLayer : nn.Module
    {
        /// <summary>Creates a layer acting on rows of <paramref name="dimension"/> values.</summary>
        /// <param name="name">The module name TorchSharp uses for the layer's parameters.</param>
        /// <param name="dimension">The number of values in a row; at least 1.</param>
        protected FlowLayer(string name, int dimension) : base(name)
        {
            if (dimension < 1)
                throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "A flow layer needs a dimension of at least 1.");
            Dimension = dimension;
        }

        /// <summary>The number of values in a row this layer transforms.</summary>
        public int Dimension { get; }

        /// <summary>The number of values in a row on the latent side (the library's point-mass layer drops slots; every other layer keeps them).</summary>
        internal virtual int OutputDimension => Dimension;

        /// <summary>Maps data-side rows <c>[N, Dimension]</c> towards the latent space.</summary>
        /// <param name="input">Rows on the data side of this layer.</param>
        /// <returns>The transformed rows and <c>log|det dOutput/dInput|</c> per row (shape <c>[N]</c>).</returns>
        public abstract (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input);

        /// <summary>Maps latent-side rows <c>[N, Dimension]</c> towards the data space (the inverse of <see cref="Forward(Tensor)"/>).</summary>
        /// <param name="input">Rows on the latent side of this layer.</param>
        /// <returns>The transformed rows and <c>log|det dOutput/dInput|</c> per row (shape <c>[N]</c>).</returns>
        public abstract (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input);

        /// <summary>
        /// The number of context values per row the layer's map is conditioned on (a class, covariates): 0 for an
        /// unconditional layer, which ignores any context it is given.
        /// </summary>
        public virtual int ContextWidth => 0;

        /// <summary>The data-to-latent map given a context <c>[N, ContextWidth]</c> for each row.</summary>
        /// <param name="input">Rows on the data side of this layer.</param>
        /// <param name="context">The rows' context, or <c>null</c> for a layer with <see cref="ContextWidth"/> 0.</param>
        /// <returns>The transformed rows and <c>log|det dOutput/dInput|</c> per row (shape <c>[N]</c>).</returns>
        public virtual (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input, Tensor? context) => Forward(input);

        /// <summary>The latent-to-data map given a context <c>[N, ContextWidth]</c> for each row.</summary>
        /// <param name="input">Rows on the latent side of this layer.</param>
        /// <param name="context">The rows' context, or <c>null</c> for a layer with <see cref="ContextWidth"/> 0.</param>
        /// <returns>The transformed rows and <c>log|det dOutput/dInput|</c> per row (shape <c>[N]</c>).</returns>
        public virtual (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input, Tensor? context) => Inverse(input);
    }
}
