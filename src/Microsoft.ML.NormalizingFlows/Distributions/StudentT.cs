using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    /// <summary>
    /// Independent standard Student-t features with trainable degrees of freedom <c>nu = exp(l)</c> per feature, a
    /// heavy-tailed base for data with outliers (it tends to N(0, I) as nu grows):
    /// <c>log p(z) = sum(lgamma((nu + 1) / 2) - lgamma(nu / 2) - log(nu pi) / 2 - (nu + 1) / 2 log(1 + z^2 / nu))</c>.
    /// Samples are <c>e / sqrt(g / nu)</c> with <c>e ~ N(0, 1)</c> and <c>g = 2 Gamma(nu / 2)</c> (chi-squared with nu
    /// degrees of freedom), reparameterized: the gamma draw carries its implicit gradient in its shape, so path
    /// gradients of variational objectives reach nu.
    /// </summary>
    public sealed class StudentT : BaseDistribution, IOnnxExportableDistribution
    {
        internal const string TypeName = nameof(StudentT);

        private readonly Parameter logDegreesOfFreedom;

        /// <summary>Creates the distribution.</summary>
        /// <param name="dimension">d, at least 1.</param>
        /// <param name="degreesOfFreedom">The starting nu of every feature; greater than 0. Default 10.</param>
        public StudentT(int dimension, double degreesOfFreedom = 10) : base(TypeName, dimension)
        {
            if (!(degreesOfFreedom > 0) || double.IsInfinity(degreesOfFreedom))
                throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "The degrees of freedom must be finite and greater than 0.");
            logDegreesOfFreedom = new Parameter(full(dimension, System.Math.Log(degreesOfFreedom)));
            RegisterComponents();
        }

        /// <summary>The current degrees of freedom per feature.</summary>
        public double[] DegreesOfFreedom => logDegreesOfFreedom.detach().exp().to_type(ScalarType.Float64).data<double>().ToArray();

        /// <inheritdoc />
        public override Tensor LogProb(Tensor latent) => LogProb(TorchOps.Instance, latent);

        /// <inheritdoc />
        public override Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            Tensor nu = logDegreesOfFreedom.exp().to_type(dtype).to(device).expand(count, Dimension).contiguous();
            Tensor normal = randn(new[] { count, (long)Dimension }, dtype: dtype, device: device, generator: generator);
            Tensor chiSquared = _standard_gamma(nu / 2, generator) * 2;
            return (normal / (chiSquared / nu).sqrt()).MoveToOuterDisposeScope();
        }

        /// <inheritdoc />
        public string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix) => LogProb(graph.Ops, latent);

        // nu's terms are computed from the parameter (with gradients in TorchSharp, as constants of a graph).
        private V LogProb<V>(IFlowOps<V> o, V latent) where V : class
        {
            Tensor nu = logDegreesOfFreedom.exp();
            V constant = o.Computed(((nu + 1) / 2).lgamma() - (nu / 2).lgamma() - 0.5 * (nu * System.Math.PI).log());
            V logTerm = o.Log(o.Add(o.Mul(o.Square(latent), o.Computed(nu.reciprocal())), 1));
            return o.SumLast(o.Add(constant, o.Mul(o.Computed((nu + 1) * -0.5), logTerm)));
        }

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static StudentT Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
