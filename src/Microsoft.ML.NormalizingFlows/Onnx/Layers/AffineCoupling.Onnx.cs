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
            return (graph.Add(masked, graph.Mul(transformed, affine)), graph.Node("MatMul", new[] { logScale, transformed }));
        }

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            (string masked, string logScale, string shift, string transformed) = ExportScaleAndShift(graph, input, stateKeyPrefix);
            string affine = graph.Mul(graph.Sub(input, shift), graph.Node("Exp", new[] { graph.Node("Neg", new[] { logScale }) }));
            return (graph.Add(masked, graph.Mul(transformed, affine)), graph.Node("Neg", new[] { graph.Node("MatMul", new[] { logScale, transformed }) }));
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

        // The computation of ScaleAndShift: the conditioner (Gemm + Relu) on the passed features, then the bounded log-scale
        // and the shift. They are left unmasked here (the output multiplies by the transformed mask, and the log-determinant
        // is the log-scale's product with that mask), which saves two multiplications per layer.
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
            string raw = graph.ColumnRange(hidden, 0, Dimension);
            string shift = graph.ColumnRange(hidden, Dimension, 2 * Dimension);
            string logScale = graph.Mul(graph.Node("Tanh", new[] { graph.Mul(raw, graph.Constant((float)(1 / logScaleBound))) }), graph.Constant((float)logScaleBound));
            return (masked, logScale, shift, transformed);
        }
    }
}
