using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Conditioners;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// A coupling layer (Dinh et al.): with a binary mask <c>m</c>, the features where <c>m = 1</c> pass unchanged and
    /// condition an element-wise monotonic map of the others, <c>y = m x + (1 - m) tau(x; NN(m x))</c>, with
    /// <c>log|det J| = sum((1 - m) log|tau'|)</c>. Both directions cost one conditioner pass. The conditioner's last layer
    /// starts at zero, so an affine coupling starts as the identity.
    /// </summary>
    public abstract class CouplingLayer : FlowLayer, IOnnxExportableLayer
    {
        private readonly Tensor mask;
        private readonly Tensor transformedMask;
        private readonly MultilayerPerceptron conditioner;
        private readonly IElementwiseTransform transform;
        private readonly int hiddenUnits;
        private readonly int hiddenLayers;
        private readonly string typeName;

        private protected CouplingLayer(string typeName, bool[] mask, IElementwiseTransform transform, int hiddenUnits, int hiddenLayers)
            : base(typeName, mask?.Length ?? 0)
        {
            ArgumentNullException.ThrowIfNull(mask);
            this.typeName = typeName;
            this.transform = transform;
            this.hiddenUnits = hiddenUnits;
            this.hiddenLayers = hiddenLayers;
            this.mask = tensor(mask.Select(b => b ? 1f : 0f).ToArray());
            transformedMask = 1f - this.mask;
            conditioner = new MultilayerPerceptron(Dimension, Dimension * transform.ParametersPerFeature, hiddenUnits, hiddenLayers);
            register_buffer(nameof(this.mask), this.mask);
            register_buffer(nameof(transformedMask), transformedMask);
            register_module(nameof(conditioner), conditioner);
        }

        /// <summary>
        /// The mask of coupling layer <paramref name="index"/> in an alternating sequence: even layers pass the even
        /// features, odd layers the odd ones (a checkerboard over feature indices).
        /// </summary>
        /// <param name="dimension">The number of features.</param>
        /// <param name="index">The position of the coupling layer in the flow.</param>
        /// <returns>The mask; <c>true</c> marks a feature passed unchanged.</returns>
        public static bool[] AlternatingMask(int dimension, int index) =>
            Enumerable.Range(0, dimension).Select(j => (j + index) % 2 == 0).ToArray();

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) => Couple(input, inverse: false);

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input) => Couple(input, inverse: true);

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix) =>
            ExportCouple(graph, input, stateKeyPrefix, inverse: false);

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix) =>
            ExportCouple(graph, input, stateKeyPrefix, inverse: true);

        /// <inheritdoc />
        public ComponentDescription Describe()
        {
            using var scope = NewDisposeScope();
            var settings = new JsonObject
            {
                ["mask"] = new JsonArray(mask.to_type(ScalarType.Float32).data<float>().ToArray().Select(v => (JsonNode)(v > 0.5f)).ToArray()),
                ["hiddenUnits"] = hiddenUnits,
                ["hiddenLayers"] = hiddenLayers,
            };
            transform.Describe(settings);
            return new ComponentDescription(typeName, settings);
        }

        private protected static (bool[] Mask, int HiddenUnits, int HiddenLayers) Read(JsonObject settings) =>
            (settings["mask"]!.AsArray().Select(n => n!.GetValue<bool>()).ToArray(), settings["hiddenUnits"]!.GetValue<int>(), settings["hiddenLayers"]!.GetValue<int>());

        // The conditioner sees only the passed features, which both directions share.
        private (Tensor Output, Tensor LogAbsDetJacobian) Couple(Tensor input, bool inverse)
        {
            Tensor passed = input * mask;
            (Tensor mapped, Tensor logDerivative) = transform.Apply(input, conditioner.forward(passed), inverse);
            return (passed + transformedMask * mapped, (logDerivative * transformedMask).sum(1));
        }

        private (string Output, string? LogAbsDetJacobian) ExportCouple(OnnxGraph graph, string input, string prefix, bool inverse)
        {
            string passed = graph.Mul(input, graph.State(prefix + "mask"));
            string transformed = graph.State(prefix + "transformedMask");
            string parameters = conditioner.Export(graph, passed, prefix + "conditioner.");
            (string mapped, string logDerivative) = transform.Export(graph, input, parameters, Dimension, inverse);
            return (graph.Add(passed, graph.Mul(transformed, mapped)), graph.Node("MatMul", new[] { logDerivative, transformed }));
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) conditioner.Dispose();
            base.Dispose(disposing);
        }
    }
}
