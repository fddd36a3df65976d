using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
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
        public override Tensor LogProb(Tensor latent) => LogProb(TorchOps.Instance, latent);

        /// <summary>Draws <c>mu + exp(s) e</c>, <c>e ~ N(0, I)</c>: reparameterized, so gradients reach the mean and scale.</summary>
        /// <param name="count">How many rows to draw.</param>
        /// <param name="dtype">The element type of the result.</param>
        /// <param name="device">The device of the result.</param>
        /// <param name="generator">A random generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <returns>A tensor of shape <c>[count, Dimension]</c>.</returns>
        public override Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null) =>
            randn(new[] { count, (long)Dimension }, dtype: dtype, device: device, generator: generator) * logScale.exp() + mean;

        internal override bool ReadsUniforms => false;

        internal override Tensor FromNoise(Tensor normal, double[] uniforms, double temperature) =>
            normal * temperature * logScale.exp().to_type(normal.dtype) + mean.to_type(normal.dtype);

        /// <inheritdoc />
        public string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix) => LogProb(graph.Ops, latent);

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        private V LogProb<V>(IFlowOps<V> o, V latent) where V : class => LogDensity(o, latent, o.State(mean), o.State(logScale), Dimension);

        /// <summary><c>log N(z; mu, diag(exp(2 s)))</c> per row, for any mean and log-scale values (broadcast to the rows).</summary>
        internal static V LogDensity<V>(IFlowOps<V> o, V latent, V mean, V logScale, int dimension) where V : class
        {
            V standardized = o.Mul(o.Sub(latent, mean), o.Exp(o.Neg(logScale)));
            return o.Add(o.Sub(o.Mul(o.SumLast(o.Square(standardized)), -0.5), o.SumLast(logScale)), -dimension * HalfLogTwoPi);
        }

        internal static DiagonalGaussian Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
