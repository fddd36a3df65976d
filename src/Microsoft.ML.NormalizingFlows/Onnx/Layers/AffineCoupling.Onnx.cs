using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    public sealed partial class AffineCoupling : IOnnxExportableLayer
    {
        internal const string TypeName = "AffineCoupling";

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            (string masked, string logScale, string shift, string transformed) = ExportScaleAndShift(graph, input, stateKeyPrefix);
            string affine = graph.Add(graph.Mul(input, graph.Node("Exp", new[] { logScale })), shift);
            return (graph.Add(masked, graph.Mul(transformed, affine)), graph.SumOverFeatures(logScale, Dimension));
        }

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            (string masked, string logScale, string shift, string transformed) = ExportScaleAndShift(graph, input, stateKeyPrefix);
            string negativeLogScale = graph.Node("Neg", new[] { logScale });
            string affine = graph.Mul(graph.Sub(input, shift), graph.Node("Exp", new[] { negativeLogScale }));
            return (graph.Add(masked, graph.Mul(transformed, affine)), graph.SumOverFeatures(negativeLogScale, Dimension));
        }

        /// <inheritdoc />
        public ComponentDescription Describe()
        {
            using var scope = NewDisposeScope();
            bool[] passed = mask.to_type(ScalarType.Float32).data<float>().ToArray().Select(v => v > 0.5f).ToArray();
            return new ComponentDescription(TypeName, new JsonObject
            {
                ["mask"] = new JsonArray(passed.Select(b => (JsonNode)b).ToArray()),
                ["hiddenUnits"] = hiddenUnits,
                ["hiddenLayers"] = hiddenLayers,
                ["logScaleBound"] = logScaleBound,
            });
        }

        internal static AffineCoupling Create(JsonObject settings) => new(
            settings["mask"]!.AsArray().Select(n => n!.GetValue<bool>()).ToArray(),
            settings["hiddenUnits"]!.GetValue<int>(), settings["hiddenLayers"]!.GetValue<int>(), settings["logScaleBound"]!.GetValue<double>());

        // The same computation as ScaleAndShift: the conditioner (Gemm + Relu) on the passed features, then the bounded
        // log-scale and the shift, both zero on the passed features.
        private (string Masked, string LogScale, string Shift, string Transformed) ExportScaleAndShift(OnnxGraph graph, string input, string prefix)
        {
            string masked = graph.Mul(input, graph.State(prefix + "mask"));
            string transformed = graph.State(prefix + "transformedMask");
            string hidden = masked;
            var linear = conditioner.named_parameters().Select(p => p.name).ToArray();
            for (int k = 0; k < linear.Length; k += 2)
            {
                hidden = graph.Node("Gemm", new[] { hidden, graph.State($"{prefix}conditioner.{linear[k]}"), graph.State($"{prefix}conditioner.{linear[k + 1]}") }, ("transB", 1));
                if (k + 2 < linear.Length) hidden = graph.Node("Relu", new[] { hidden });
            }
            string raw = graph.Columns(hidden, Enumerable.Range(0, Dimension).Select(j => (long)j).ToArray());
            string shift = graph.Columns(hidden, Enumerable.Range(Dimension, Dimension).Select(j => (long)j).ToArray());
            string bound = graph.Constant((float)logScaleBound);
            string logScale = graph.Mul(graph.Mul(graph.Node("Tanh", new[] { graph.Node("Div", new[] { raw, bound }) }), bound), transformed);
            return (masked, logScale, graph.Mul(shift, transformed), transformed);
        }
    }
}
