using Microsoft.ML.NormalizingFlows.Distributions;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>Writes a flow's two directions into an <see cref="OnnxGraph"/>: the density graph and the sampling graph.</summary>
    internal static class FlowGraphs
    {
        /// <summary>Data <c>[N, d]</c> to log-density <c>[N]</c> and latent <c>[N, d]</c>.</summary>
        public static (string LogDensity, string Latent) Density(NormalizingFlow flow, OnnxGraph graph, string input)
        {
            AddContext(flow, graph);
            (string latent, string? logDet) = Forward(flow, graph, input);
            string logProb = Exportable(graph, flow.BaseDistribution).ExportLogProb(graph, latent, "baseDistribution.");
            return (Sum(graph, logProb, logDet)!, ReportedLatent(flow, graph, latent));
        }

        /// <summary>The latent a density graph outputs: <c>[N, d]</c>, with 0 at the slots a point-mass layer drops.</summary>
        public static string ReportedLatent(NormalizingFlow flow, OnnxGraph graph, string latent) =>
            flow.PointMassSlots?.PadLatent(graph.Ops, latent) ?? latent;

        /// <summary>Noise <c>[N, latent d]</c> to samples <c>[N, d]</c> in the data's units and their log-density <c>[N]</c>.</summary>
        public static (string Samples, string LogDensity) Sampling(NormalizingFlow flow, OnnxGraph graph, string noise)
        {
            AddContext(flow, graph);
            (string samples, string? logDet) = Inverse(flow, graph, noise);
            string logProb = Exportable(graph, flow.BaseDistribution).ExportLogProb(graph, noise, "baseDistribution.");
            return (samples, logDet is null ? logProb : graph.Sub(logProb, logDet));
        }

        /// <summary>The layers' forward directions (data to latent) and their summed log-determinant (<c>null</c> without any).</summary>
        public static (string Latent, string? LogDet) Forward(NormalizingFlow flow, OnnxGraph graph, string input)
        {
            string current = input;
            string? logDet = null;
            IReadOnlyList<FlowLayer> layers = flow.Layers;
            for (int i = 0; i < layers.Count; i++)
            {
                (current, string? layerLogDet) = Exportable(graph, layers[i], i).ExportForward(graph, current, $"layers.{i}.");
                logDet = Sum(graph, logDet, layerLogDet);
            }
            return (current, logDet);
        }

        /// <summary>The layers' inverse directions (latent to data, last layer first) and their summed log-determinant.</summary>
        public static (string Samples, string? LogDet) Inverse(NormalizingFlow flow, OnnxGraph graph, string latent)
        {
            string current = latent;
            string? logDet = null;
            IReadOnlyList<FlowLayer> layers = flow.Layers;
            for (int i = layers.Count - 1; i >= 0; i--)
            {
                (current, string? layerLogDet) = Exportable(graph, layers[i], i).ExportInverse(graph, current, $"layers.{i}.");
                logDet = Sum(graph, logDet, layerLogDet);
            }
            return (current, logDet);
        }

        // A conditional flow's graphs take the rows' context as a second input, which its conditional layers read.
        private static void AddContext(NormalizingFlow flow, OnnxGraph graph)
        {
            if (flow.ContextWidth == 0) return;
            graph.AddInput(FlowOnnx.ContextName, flow.ContextWidth);
            graph.Context = FlowOnnx.ContextName;
        }

        internal static IOnnxExportableLayer Exportable(FlowLayer layer, int index) =>
            layer as IOnnxExportableLayer ?? throw new NotSupportedException(
                $"Layer {index} ({layer.GetType().Name}) cannot be written to ONNX: implement IOnnxExportableLayer for it.");

        internal static IOnnxExportableDistribution Exportable(BaseDistribution distribution) =>
            distribution as IOnnxExportableDistribution ?? throw new NotSupportedException(
                $"The base distribution ({distribution.GetType().Name}) cannot be written to ONNX: implement IOnnxExportableDistribution for it.");

        // Hand-written graph code writes float32 constants; only components written over IFlowOps follow a float64 graph.
        private static IOnnxExportableLayer Exportable(OnnxGraph graph, FlowLayer layer, int index) =>
            !graph.Float64 || layer is ExportableFlowLayer ? Exportable(layer, index) : throw new NotSupportedException(
                $"Layer {index} ({layer.GetType().Name}) writes its graph by hand, in float32; a float64 graph needs layers derived from ExportableFlowLayer.");

        private static IOnnxExportableDistribution Exportable(OnnxGraph graph, BaseDistribution distribution) =>
            !graph.Float64 || distribution is StandardNormal or DiagonalGaussian or StudentT or GaussianMixture ? Exportable(distribution) : throw new NotSupportedException(
                $"The base distribution ({distribution.GetType().Name}) writes its graph in float32; a float64 graph supports StandardNormal, DiagonalGaussian, StudentT and GaussianMixture.");

        internal static string? Sum(OnnxGraph graph, string? a, string? b) => a is null ? b : b is null ? a : graph.Add(a, b);
    }
}
