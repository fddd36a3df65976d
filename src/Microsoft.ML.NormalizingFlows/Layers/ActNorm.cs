using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// Activation normalization (Kingma and Dhariwal, 2018): a learned per-feature affine map
    /// <c>y = (x - b) exp(-s)</c>, <c>log|det J| = -sum(s)</c>, initialized from data so that its first training batch
    /// comes out with zero mean and unit variance per feature. Initialization happens on the first Forward call in
    /// training mode, or explicitly with <see cref="Initialize"/>.
    /// </summary>
    public sealed class ActNorm : FlowLayer, IOnnxExportableLayer
    {
        internal const string TypeName = nameof(ActNorm);

        private readonly Parameter bias;
        private readonly Parameter logScale;
        private readonly Tensor initialized;

        /// <summary>Creates the layer at the identity, not yet initialized from data.</summary>
        /// <param name="dimension">d, at least 1.</param>
        public ActNorm(int dimension) : base(TypeName, dimension)
        {
            bias = new Parameter(zeros(dimension));
            logScale = new Parameter(zeros(dimension));
            initialized = zeros(1);
            register_buffer(nameof(initialized), initialized);
            RegisterComponents();
        }

        /// <summary>Whether the data-dependent initialization has happened.</summary>
        public bool IsInitialized => initialized.to_type(ScalarType.Float32).item<float>() > 0;

        /// <summary>Sets the bias to the per-feature mean of <paramref name="data"/> and the scale to its standard deviation.</summary>
        /// <param name="data">Rows <c>[N, d]</c> as they arrive at this layer, N at least 2.</param>
        public void Initialize(Tensor data)
        {
            ArgumentNullException.ThrowIfNull(data);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            bias.copy_(data.mean(new long[] { 0 }));
            logScale.copy_((data.std(0) + 1e-6).log());
            initialized.fill_(1);
        }

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input)
        {
            if (training && !IsInitialized && input.shape[0] > 1) Initialize(input);
            return ((input - bias) * logScale.neg().exp(), logScale.sum().neg().expand(input.shape[0]));
        }

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input) =>
            (input * logScale.exp() + bias, logScale.sum().expand(input.shape[0]));

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            string s = graph.State(stateKeyPrefix + "logScale");
            return (graph.Mul(graph.Sub(input, graph.State(stateKeyPrefix + "bias")), graph.Node("Exp", new[] { graph.Node("Neg", new[] { s }) })),
                    graph.Node("Neg", new[] { graph.Node("MatMul", new[] { s, graph.Constant(Enumerable.Repeat(1f, Dimension).ToArray()) }) }));
        }

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            string s = graph.State(stateKeyPrefix + "logScale");
            return (graph.Add(graph.Mul(input, graph.Node("Exp", new[] { s })), graph.State(stateKeyPrefix + "bias")),
                    graph.Node("MatMul", new[] { s, graph.Constant(Enumerable.Repeat(1f, Dimension).ToArray()) }));
        }

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static ActNorm Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
