using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    /// <summary>
    /// A Gaussian with trainable mean and per-feature scale, <c>N(mu, diag(exp(2 s)))</c>:
    /// <c>log p(z) = sum(-((z - mu) exp(-s))^2 / 2 - s) - (d / 2) log(2 pi)</c>. Starts as N(0, I).
    /// </summary>
    public sealed class DiagonalGaussian : BaseDistribution, IOnnxExportableDistribution
    {
        internal const string TypeName = nameof(DiagonalGaussian);
        private static readonly double HalfLogTwoPi = 0.5 * System.Math.Log(2 * System.Math.PI);

        private readonly Parameter mean;
        private readonly Parameter logScale;

        /// <summary>Creates N(0, I) with trainable mean and scale.</summary>
        /// <param name="dimension">d, at least 1.</param>
        public DiagonalGaussian(int dimension) : base(TypeName, dimension)
        {
            mean = new Parameter(zeros(dimension));
            logScale = new Parameter(zeros(dimension));
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor LogProb(Tensor latent) =>
            ((latent - mean) * logScale.neg().exp()).square().sum(1).mul(-0.5) - logScale.sum() - Dimension * HalfLogTwoPi;

        /// <summary>Draws <c>mu + exp(s) e</c>, <c>e ~ N(0, I)</c>: reparameterized, so gradients reach the mean and scale.</summary>
        /// <param name="count">How many rows to draw.</param>
        /// <param name="dtype">The element type of the result.</param>
        /// <param name="device">The device of the result.</param>
        /// <param name="generator">A random generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <returns>A tensor of shape <c>[count, Dimension]</c>.</returns>
        public override Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null) =>
            randn(new[] { count, (long)Dimension }, dtype: dtype, device: device, generator: generator) * logScale.exp() + mean;

        /// <inheritdoc />
        public string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix)
        {
            string s = graph.State(stateKeyPrefix + "logScale");
            string standardized = graph.Mul(graph.Sub(latent, graph.State(stateKeyPrefix + "mean")), graph.Node("Exp", new[] { graph.Node("Neg", new[] { s }) }));
            string quadratic = graph.Mul(graph.SumOverFeatures(graph.Mul(standardized, standardized), Dimension), graph.Constant(-0.5f));
            string logScaleSum = graph.Node("MatMul", new[] { s, graph.Constant(Enumerable.Repeat(1f, Dimension).ToArray()) });
            return graph.Sub(graph.Sub(quadratic, logScaleSum), graph.Constant((float)(Dimension * HalfLogTwoPi)));
        }

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static DiagonalGaussian Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
