using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A flow layer whose map is written once, over <see cref="IFlowOps{V}"/>: the same code runs eagerly on TorchSharp
    /// tensors (training, sampling) and writes the layer's ONNX nodes (export), so the exported graph computes what the
    /// layer computes by construction. Every built-in layer with a closed-form inverse is one.
    /// </summary>
    /// <remarks>
    /// A custom layer implements <see cref="Map{V}"/> for both directions, reaching its parameters and buffers through
    /// <see cref="IFlowOps{V}.State"/> (they must be registered with the module: <c>Parameter</c> fields and
    /// <c>register_buffer</c>, then <c>RegisterComponents()</c>), and <see cref="Describe"/>; to load flow files that
    /// hold it, register a factory with <see cref="FlowLayerRegistry.Register"/>. A conditional layer overrides
    /// <see cref="FlowLayer.ContextWidth"/> and reads <c>context</c> in its conditioner. For example, the element-wise
    /// <c>y = (x - b) exp(-s)</c>:
    /// <code language="csharp">
    /// protected override (V Output, V? LogAbsDetJacobian) Map&lt;V&gt;(IFlowOps&lt;V&gt; ops, V input, V? context, bool inverse) where V : class
    /// {
    ///     V b = ops.State(shift), s = ops.State(logScale);
    ///     V logDet = ops.ExpandRows(ops.SumLast(s), input);
    ///     return inverse
    ///         ? (ops.Add(ops.Mul(input, ops.Exp(s)), b), logDet)
    ///         : (ops.Mul(ops.Sub(input, b), ops.Exp(ops.Neg(s))), ops.Neg(logDet));
    /// }
    /// </code>
    /// </remarks>
    public abstract class ExportableFlowLayer : FlowLayer, IOnnxExportableLayer
    {
        /// <summary>Creates a layer acting on rows of <paramref name="dimension"/> values.</summary>
        /// <param name="name">The module name TorchSharp uses for the layer's parameters.</param>
        /// <param name="dimension">The number of values in a row; at least 1.</param>
        protected ExportableFlowLayer(string name, int dimension) : base(name, dimension)
        {
        }

        /// <summary>
        /// The layer's map in one direction: data to latent (<paramref name="inverse"/> false) or latent to data.
        /// </summary>
        /// <typeparam name="V">The interpreter's value type.</typeparam>
        /// <param name="ops">The interpreter: TorchSharp or an ONNX graph.</param>
        /// <param name="input">Rows <c>[N, Dimension]</c>.</param>
        /// <param name="context">The rows' context <c>[N, ContextWidth]</c>, or <c>null</c> when <see cref="FlowLayer.ContextWidth"/> is 0.</param>
        /// <param name="inverse">Whether to apply the latent-to-data direction.</param>
        /// <returns>The output rows and <c>log|det dOutput/dInput|</c> per row (<c>[N]</c>), or <c>null</c> when it is zero.</returns>
        protected internal abstract (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> ops, V input, V? context, bool inverse)
            where V : class;

        /// <inheritdoc />
        public abstract ComponentDescription Describe();

        /// <inheritdoc />
        public sealed override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) => Run(input, null, inverse: false);

        /// <inheritdoc />
        public sealed override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input) => Run(input, null, inverse: true);

        /// <inheritdoc />
        public sealed override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input, Tensor? context) => Run(input, context, inverse: false);

        /// <inheritdoc />
        public sealed override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input, Tensor? context) => Run(input, context, inverse: true);

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix) =>
            Map(graph.Ops, input, Context(graph), inverse: false);

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix) =>
            Map(graph.Ops, input, Context(graph), inverse: true);

        private string? Context(OnnxGraph graph) => ContextWidth == 0 ? null
            : graph.Context ?? throw new InvalidOperationException($"{GetType().Name} is conditional (context width {ContextWidth}) but the graph has no context input.");

        private (Tensor Output, Tensor LogAbsDetJacobian) Run(Tensor input, Tensor? context, bool inverse)
        {
            // A flow passes its context to every layer; an unconditional one ignores it.
            if (ContextWidth == 0) context = null;
            else ContextRows.Check(context, ContextWidth, input.shape[0], GetType().Name);
            (Tensor output, Tensor? logDet) = Map(TorchOps.Instance, input, context, inverse);
            return (output, logDet ?? zeros(input.shape[0], dtype: input.dtype, device: input.device));
        }
    }
}
