using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    public sealed partial class Permutation : IOnnxExportableLayer
    {
        internal const string TypeName = "Permutation";

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix) =>
            (graph.Node("Gather", new[] { input, graph.State(stateKeyPrefix + "order") }, ("axis", 1)), null);

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix) =>
            (graph.Node("Gather", new[] { input, graph.State(stateKeyPrefix + "inverseOrder") }, ("axis", 1)), null);

        /// <inheritdoc />
        public ComponentDescription Describe()
        {
            using var scope = NewDisposeScope();
            long[] values = order.data<long>().ToArray();
            return new ComponentDescription(TypeName, new JsonObject { ["order"] = new JsonArray(values.Select(v => (JsonNode)(int)v).ToArray()) });
        }

        internal static Permutation Create(JsonObject settings) =>
            new(settings["order"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray());
    }
}
