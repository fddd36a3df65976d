using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Transforms
{
    /// <summary>
    /// <c>y = x exp(s) + t</c> with a softly bounded log-scale <c>s = B tanh(raw / B)</c>; <c>log|dy/dx| = s</c>.
    /// Parameters parameter-major: <c>[raw_1..raw_d, t_1..t_d]</c>.
    /// </summary>
    internal sealed class AffineTransform : IElementwiseTransform
    {
        public AffineTransform(double logScaleBound)
        {
            if (!(logScaleBound > 0) || double.IsInfinity(logScaleBound))
                throw new ArgumentOutOfRangeException(nameof(logScaleBound), logScaleBound, "The log-scale bound must be finite and greater than 0.");
            LogScaleBound = logScaleBound;
        }

        public double LogScaleBound { get; }

        public int ParametersPerFeature => 2;

        public bool FeatureMajor => false;

        public (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor parameters, bool inverse)
        {
            Tensor[] parts = parameters.chunk(2, 1);
            Tensor logScale = (parts[0] / LogScaleBound).tanh() * LogScaleBound;
            return inverse
                ? ((input - parts[1]) * logScale.neg().exp(), logScale.neg())
                : (input * logScale.exp() + parts[1], logScale);
        }

        public (string Output, string LogAbsDet) Export(OnnxGraph graph, string input, string parameters, int features, bool inverse)
        {
            string raw = graph.ColumnRange(parameters, 0, features);
            string shift = graph.ColumnRange(parameters, features, 2 * features);
            string logScale = graph.Mul(graph.Node("Tanh", new[] { graph.Mul(raw, graph.Constant((float)(1 / LogScaleBound))) }), graph.Constant((float)LogScaleBound));
            if (!inverse) return (graph.Add(graph.Mul(input, graph.Node("Exp", new[] { logScale })), shift), logScale);
            string negative = graph.Node("Neg", new[] { logScale });
            return (graph.Mul(graph.Sub(input, shift), graph.Node("Exp", new[] { negative })), negative);
        }

        public void Describe(JsonObject settings) => settings["logScaleBound"] = LogScaleBound;

        public static AffineTransform Create(JsonObject settings) => new(settings["logScaleBound"]!.GetValue<double>());
    }
}
