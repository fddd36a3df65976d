using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    public sealed partial class StandardNormal : IOnnxExportableDistribution
    {
        internal const string TypeName = "StandardNormal";

        /// <inheritdoc />
        public string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix) =>
            graph.Sub(graph.Mul(graph.SumOverFeatures(graph.Mul(latent, latent), Dimension), graph.Constant(-0.5f)),
                      graph.Constant((float)(Dimension * HalfLogTwoPi)));

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static StandardNormal Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
