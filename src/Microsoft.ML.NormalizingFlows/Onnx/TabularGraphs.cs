using Microsoft.ML.NormalizingFlows.Ops;
using Microsoft.ML.NormalizingFlows.Tabular;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// The density and sampling graphs of a flow over a table or with a condition. Their inputs are the rows' values as
    /// they are: <c>features [N, d]</c> holds the data columns' values (integers as integers), <c>context [N, k]</c> each
    /// categorical column's one-hot block and each numeric context column's values, in the model's column order. The
    /// graph itself moves integers to the middle of their unit cell, standardizes the numeric context, runs the layers
    /// (which read the context when they were built to), the conditional base and the categories' table, so that its
    /// <c>log_density</c> is the row's whole log-density, categories included.
    /// </summary>
    internal static class TabularGraphs
    {
        /// <summary>Writes the density graph's inputs and nodes; returns the log-density and the latent.</summary>
        public static (string LogDensity, string Latent) Density(NormalizingFlow flow, TabularModel model, OnnxGraph graph)
        {
            IFlowOps<string> o = graph.Ops;
            TabularCodec codec = model.Codec;
            graph.AddInput(FlowOnnx.FeaturesName, flow.Dimension);
            string data = FlowOnnx.FeaturesName;
            float[] integers = codec.IntegerMask();
            if (integers.Any(m => m != 0)) data = o.Add(data, o.Constant(integers.Select(m => 0.5 * m).ToArray(), flow.ElementType));
            string? context = AddContext(flow, model, graph);
            (string latent, string? logDet) = FlowGraphs.Forward(flow, graph, data);
            string logProb = LogProb(flow, model, graph, latent, context, BaseParameters(o, model, flow.ElementType));
            return (FlowGraphs.Sum(graph, logProb, logDet)!, FlowGraphs.ReportedLatent(flow, graph, latent));
        }

        /// <summary>
        /// Writes the sampling graph's inputs (<c>noise [N, d]</c> standard-normal draws, and the context) and nodes; returns
        /// the samples (integers not yet rounded) and their log-density (the conditional continuous part and the categories' mass).
        /// </summary>
        public static (string Samples, string LogDensity) Sampling(NormalizingFlow flow, TabularModel model, OnnxGraph graph)
        {
            IFlowOps<string> o = graph.Ops;
            TabularCodec codec = model.Codec;
            graph.AddInput(FlowOnnx.NoiseName, flow.LatentDimension);
            string? context = AddContext(flow, model, graph);
            string latent = FlowOnnx.NoiseName;
            var parameters = BaseParameters(o, model, flow.ElementType);
            if (parameters is (string w, string b, string v, string e))
            {
                (string mean, string logScale) = ConditionalNormalizingFlow.LatentGaussian(o, context!, w, b, v, e);
                latent = o.Add(mean, o.Mul(o.Exp(logScale), FlowOnnx.NoiseName));
            }
            (string samples, string? logDet) = FlowGraphs.Inverse(flow, graph, latent);
            string logProb = LogProb(flow, model, graph, latent, context, parameters);
            return (samples, logDet is null ? logProb : o.Sub(logProb, logDet));
        }

        // The context input, standardized into what the layers and the conditional base read; null without a context.
        private static string? AddContext(NormalizingFlow flow, TabularModel model, OnnxGraph graph)
        {
            TabularCodec codec = model.Codec;
            if (codec.ContextWidth == 0) return null;
            IFlowOps<string> o = graph.Ops;
            graph.AddInput(FlowOnnx.ContextName, codec.ContextWidth);
            string context = FlowOnnx.ContextName;
            (double[] shift, double[] scale) = codec.ContextStandardization();
            if (codec.HasNumericContext)
                context = o.Div(o.Sub(context, o.Constant(shift, flow.ElementType)), o.Constant(scale, flow.ElementType));
            if (flow.ContextWidth > 0) graph.Context = context;
            return context;
        }

        // The base's log-density of the latent (conditional on the standardized context when the model has a conditional
        // base) plus the categories' log-mass, read from the context input's one-hot blocks.
        private static string LogProb(NormalizingFlow flow, TabularModel model, OnnxGraph graph, string latent, string? context,
            (string, string, string, string)? parameters)
        {
            IFlowOps<string> o = graph.Ops;
            string logProb = parameters is (string w, string b, string v, string e)
                ? ConditionalNormalizingFlow.BaseLogProb(o, latent, flow.LatentDimension, context!, w, b, v, e)
                : FlowGraphs.Exportable(flow.BaseDistribution).ExportLogProb(graph, latent, "baseDistribution.");
            TabularCodec codec = model.Codec;
            string? logMass = context is null ? null
                : codec.Table.LogMass(o, FlowOnnx.ContextName, codec.CategoricalContextOffsets(), codec.ContextWidth, flow.ElementType);
            return FlowGraphs.Sum(graph, logProb, logMass)!;
        }

        // The conditional base's W, b, V, e as graph constants; null without a conditional base.
        private static (string, string, string, string)? BaseParameters(IFlowOps<string> o, TabularModel model, ScalarType type)
        {
            if (model.BaseParameters is not double[][] p) return null;
            int d = p[1].Length, k = model.Codec.ContextWidth; // the latent's width: the data's, less any point-mass slots
            return (o.Constant(p[0], type, k, d), o.Constant(p[1], type, d), o.Constant(p[2], type, k, d), o.Constant(p[3], type, d));
        }
    }
}
