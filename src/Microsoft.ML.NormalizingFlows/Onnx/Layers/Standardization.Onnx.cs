using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    public sealed partial class Standardization : IOnnxExportableLayer
    {
        internal const string TypeName = "Standardization";

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix) =>
            (graph.Node("Div", new[] { graph.Sub(input, graph.State(stateKeyPrefix + "mean")), graph.State(stateKeyPrefix + "scale") }),
             graph.Node("Neg", new[] { graph.State(stateKeyPrefix + "logScaleSum") }));

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix) =>
            (graph.Add(graph.Mul(input, graph.State(stateKeyPrefix + "scale")), graph.State(stateKeyPrefix + "mean")),
             graph.State(stateKeyPrefix + "logScaleSum"));

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        // The mean and scale are placeholders here: loading a flow file copies the stored values over them.
        internal static Standardization Create(JsonObject settings)
        {
            int dimension = settings["dimension"]!.GetValue<int>();
            return new Standardization(new double[dimension], Enumerable.Repeat(1.0, dimension).ToArray());
        }
    }
}
