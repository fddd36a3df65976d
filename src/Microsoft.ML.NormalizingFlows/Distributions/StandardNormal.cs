using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    /// <summary>
    /// The standard normal distribution N(0, I):
    /// <c>log p(z) = -||z||^2 / 2 - (d / 2) log(2 pi)</c>.
    /// </summary>
    public sealed class StandardNormal : BaseDistribution, IOnnxExportableDistribution
    {
        internal const string TypeName = "StandardNormal";
        private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

        /// <summary>Creates N(0, I) over rows of <paramref name="dimension"/> values.</summary>
        /// <param name="dimension">The number of values in a row; at least 1.</param>
        public StandardNormal(int dimension) : base(nameof(StandardNormal), dimension)
        {
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor LogProb(Tensor latent) => LogProb(TorchOps.Instance, latent);

        /// <inheritdoc />
        public override Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null) =>
            randn(new[] { count, (long)Dimension }, dtype: dtype, device: device, generator: generator);

        internal override bool ReadsUniforms => false;

        internal override Tensor FromNoise(Tensor normal, double[] uniforms, double temperature) => normal * temperature;

        /// <inheritdoc />
        public string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix) => LogProb(graph.Ops, latent);

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static StandardNormal Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());

        private V LogProb<V>(IFlowOps<V> o, V latent) where V : class =>
            o.Add(o.Mul(o.SumLast(o.Square(latent)), -0.5), -Dimension * HalfLogTwoPi);
    }
}
