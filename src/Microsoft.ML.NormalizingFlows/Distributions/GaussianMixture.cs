using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Distributions
{
    /// <summary>
    /// A mixture of K Gaussians with diagonal covariances and trainable weights, means and scales:
    /// <c>log p(z) = logsumexp_k(log w_k + sum_j(-((z_j - mu_kj) exp(-s_kj))^2 / 2 - s_kj) - (d / 2) log(2 pi))</c>, with
    /// <c>w = softmax(logits)</c>. A flow with this base needs to warp less for multimodal data. It starts as K copies of
    /// N(0, I) spread apart, or from <see cref="InitializeFrom"/> (seeded k-means on latents).
    /// </summary>
    /// <remarks>
    /// Draws are reparameterized in the means and scales (gradients reach them); the component choice is discrete, so the
    /// weights get no path gradient (they train by maximum likelihood, not through sampling-based objectives).
    /// </remarks>
    public sealed class GaussianMixture : BaseDistribution, IOnnxExportableDistribution
    {
        internal const string TypeName = nameof(GaussianMixture);
        private static readonly double HalfLogTwoPi = 0.5 * System.Math.Log(2 * System.Math.PI);

        private readonly Parameter logits;
        private readonly Parameter means;
        private readonly Parameter logScales;

        /// <summary>Creates a mixture of <paramref name="components"/> Gaussians over <paramref name="dimension"/> values.</summary>
        /// <param name="dimension">d, at least 1.</param>
        /// <param name="components">K, from 1 to 1024.</param>
        /// <param name="seed">Seeds the starting means (standard-normal draws scaled by 1/2).</param>
        public GaussianMixture(int dimension, int components, int seed = 0) : base(TypeName, dimension)
        {
            if (components is < 1 or > 1024)
                throw new ArgumentOutOfRangeException(nameof(components), components, "A mixture needs from 1 to 1024 components.");
            Components = components;
            logits = new Parameter(zeros(components));
            means = new Parameter(randn(new long[] { components, dimension }, generator: new Generator().manual_seed(seed)).mul(0.5));
            logScales = new Parameter(zeros(components, dimension));
            RegisterComponents();
        }

        /// <summary>The number of components K.</summary>
        public int Components { get; }

        /// <summary>The component weights (sum 1).</summary>
        public double[] Weights => logits.detach().softmax(0).to_type(ScalarType.Float64).data<double>().ToArray();

        /// <inheritdoc />
        public override Tensor LogProb(Tensor latent) => LogProb(TorchOps.Instance, latent);

        /// <summary>Draws a component per row by its weight, then <c>mu_k + exp(s_k) e</c>, <c>e ~ N(0, I)</c>.</summary>
        /// <param name="count">How many rows to draw.</param>
        /// <param name="dtype">The element type of the result.</param>
        /// <param name="device">The device of the result.</param>
        /// <param name="generator">A random generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <returns>A tensor of shape <c>[count, Dimension]</c>.</returns>
        public override Tensor Sample(long count, ScalarType dtype, Device device, Generator? generator = null)
        {
            using var scope = NewDisposeScope();
            Tensor component;
            using (no_grad())
                component = logits.detach().softmax(0).to_type(ScalarType.Float64).cpu().multinomial(count, replacement: true, generator: generator).to(device);
            Tensor noise = randn(new[] { count, (long)Dimension }, dtype: dtype, device: device, generator: generator);
            Tensor mean = means.to_type(dtype).index_select(0, component);
            Tensor scale = logScales.to_type(dtype).exp().index_select(0, component);
            return (mean + scale * noise).MoveToOuterDisposeScope();
        }

        // The component of each row is the first whose cumulative weight exceeds the row's uniform.
        internal override Tensor FromNoise(Tensor normal, double[] uniforms, double temperature)
        {
            using var scope = NewDisposeScope();
            double[] weights = Weights;
            var cumulative = new double[Components];
            double total = 0;
            for (int k = 0; k < Components; k++) cumulative[k] = total += weights[k];
            Tensor component = tensor(uniforms.Select(u => (long)Math.Min(Components - 1, cumulative.Count(c => c <= u))).ToArray()).to(normal.device);
            Tensor mean = means.detach().to_type(normal.dtype).index_select(0, component);
            Tensor scale = logScales.detach().to_type(normal.dtype).exp().index_select(0, component);
            return (mean + scale * (normal * temperature)).MoveToOuterDisposeScope();
        }

        /// <summary>
        /// Starts the mixture at a seeded k-means fit of <paramref name="latent"/> rows (k-means++ seeding, then Lloyd
        /// iterations): each component's mean and per-feature spread are its cluster's, its weight the cluster's share.
        /// </summary>
        /// <param name="latent">Latent rows <c>[N, d]</c>, for example a flow's latents of training rows; N at least K.</param>
        /// <param name="seed">Seeds the k-means++ choices.</param>
        public void InitializeFrom(Tensor latent, int seed)
        {
            ArgumentNullException.ThrowIfNull(latent);
            if (latent.dim() != 2 || latent.shape[1] != Dimension || latent.shape[0] < Components)
                throw new ArgumentException($"Expected at least {Components} latent rows of width {Dimension}; got [{string.Join(", ", latent.shape)}].", nameof(latent));
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor z = latent.detach().to_type(ScalarType.Float64).cpu();
            long n = z.shape[0];
            using var generator = new Generator().manual_seed(seed);
            var centers = new List<Tensor> { z[randint(n, new long[] { 1 }, generator: generator).item<long>()] };
            for (int k = 1; k < Components; k++)
            {
                Tensor nearest = cdist(z, stack(centers)).amin(new long[] { 1 }).square();
                centers.Add(z[nearest.div(nearest.sum()).multinomial(1, generator: generator).item<long>()]);
            }
            Tensor center = stack(centers);
            Tensor assignment = zeros(n, dtype: ScalarType.Int64);
            for (int iteration = 0; iteration < 25; iteration++)
            {
                assignment = cdist(z, center).argmin(1);
                Tensor oneHot = nn.functional.one_hot(assignment, Components).to_type(ScalarType.Float64);
                Tensor counts = oneHot.sum(dim: 0).clamp_min(1).unsqueeze(1);
                center = oneHot.t().matmul(z) / counts;
            }
            Tensor hot = nn.functional.one_hot(assignment, Components).to_type(ScalarType.Float64);
            Tensor size = hot.sum(dim: 0);
            Tensor spread = (hot.t().matmul(z.square()) / size.clamp_min(1).unsqueeze(1) - center.square()).clamp_min(1e-6).sqrt();
            // An empty or single-row cluster keeps unit spread; every weight stays positive.
            spread = where(size.unsqueeze(1) > 1, spread, ones_like(spread));
            means.copy_(center.to_type(means.dtype));
            logScales.copy_(spread.log().to_type(logScales.dtype));
            logits.copy_((size + 1).div(n + Components).log().to_type(logits.dtype));
        }

        /// <inheritdoc />
        public string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix) => LogProb(graph.Ops, latent);

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension, ["components"] = Components });

        // [N, d] against [K, d]: per-component log-densities [N, K] plus log-weights, then a stable log-sum-exp over K.
        private V LogProb<V>(IFlowOps<V> o, V latent) where V : class
        {
            V inverseScale = o.Computed(logScales.neg().exp());
            V constant = o.Computed(logits.log_softmax(0) - logScales.sum(1) - Dimension * HalfLogTwoPi);
            V standardized = o.Mul(o.Sub(o.Reshape(latent, 0, 1, Dimension), o.State(means)), inverseScale);
            V perComponent = o.Add(o.Mul(o.SumLast(o.Square(standardized)), -0.5), constant);
            V largest = o.MaxLast(perComponent);
            V rest = o.Log(o.SumLast(o.Exp(o.Sub(perComponent, o.Reshape(largest, -1, 1)))));
            return o.Add(largest, rest);
        }

        internal static GaussianMixture Create(JsonObject settings) =>
            new(settings["dimension"]!.GetValue<int>(), settings["components"]!.GetValue<int>());
    }
}
