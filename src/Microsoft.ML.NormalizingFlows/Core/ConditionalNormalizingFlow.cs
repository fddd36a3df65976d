using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A flow conditioned on a context vector <c>c</c> (for example a one-hot class) through its base distribution and,
    /// when the flow's layers read a context (<see cref="NormalizingFlow.ContextWidth"/>), through its layers as well:
    /// <c>z = f(x; c)</c> by a <see cref="NormalizingFlow"/>, and <c>z | c ~ N(mu(c), diag(exp(2 s(c))))</c> with
    /// <c>mu(c) = c W + b</c> and <c>s(c) = B tanh((c V + e) / B)</c> (B = <see cref="LogScaleBound"/>), so
    /// <c>log p(x | c) = log N(f(x; c); mu(c), exp(s(c))) + log|det J_f(x; c)|</c>. This is the class-conditional base of
    /// FlowGMM (Izmailov et al. 2020); with a one-hot class it gives each class its own Gaussian in the latent space
    /// and shares the flow's warping between classes. W and V start at zero, so the model starts as the flow itself.
    /// </summary>
    public sealed class ConditionalNormalizingFlow : nn.Module
    {
        /// <summary>The bound on each latent log-scale.</summary>
        public const double LogScaleBound = 5;


        private readonly NormalizingFlow flow;
        private readonly Parameter meanWeight;
        private readonly Parameter meanBias;
        private readonly Parameter logScaleWeight;
        private readonly Parameter logScaleBias;

        /// <summary>Conditions <paramref name="flow"/> on context vectors of <paramref name="contextDimension"/> values.</summary>
        /// <param name="flow">
        /// The flow; its base distribution must be <see cref="StandardNormal"/> (the conditional base replaces it), and its
        /// layers read no context or the same <paramref name="contextDimension"/> values.
        /// </param>
        /// <param name="contextDimension">The number of context values per row; at least 1.</param>
        public ConditionalNormalizingFlow(NormalizingFlow flow, int contextDimension) : base(nameof(ConditionalNormalizingFlow))
        {
            ArgumentNullException.ThrowIfNull(flow);
            if (flow.BaseDistribution is not StandardNormal)
                throw new ArgumentException($"A conditional flow replaces the base distribution with a conditional Gaussian; build the flow with a StandardNormal base (it has {flow.BaseDistribution.GetType().Name}).", nameof(flow));
            if (contextDimension < 1)
                throw new ArgumentOutOfRangeException(nameof(contextDimension), contextDimension, "A context needs at least 1 value.");
            if (flow.ContextWidth != 0 && flow.ContextWidth != contextDimension)
                throw new ArgumentException($"The flow's layers read {flow.ContextWidth} context values per row but the conditional base reads {contextDimension}; build both for one context.", nameof(flow));
            this.flow = flow;
            ContextDimension = contextDimension;
            ScalarType type = flow.ElementType;
            int d = flow.LatentDimension;
            meanWeight = new Parameter(zeros(contextDimension, d, dtype: type));
            meanBias = new Parameter(zeros(d, dtype: type));
            logScaleWeight = new Parameter(zeros(contextDimension, d, dtype: type));
            logScaleBias = new Parameter(zeros(d, dtype: type));
            RegisterComponents();
            foreach (Tensor tensor in new Tensor[] { meanWeight, meanBias, logScaleWeight, logScaleBias }) tensor.DetachFromDisposeScope();
        }

        /// <summary>The shared flow.</summary>
        public NormalizingFlow Flow => flow;

        /// <summary>The number of values in a data row.</summary>
        public int Dimension => flow.Dimension;

        /// <summary>The number of values in a context row.</summary>
        public int ContextDimension { get; }

        /// <summary>The latent mean and log-scale for each context row (<c>[N, k]</c> to two <c>[N, d]</c>).</summary>
        /// <param name="context">Context rows.</param>
        /// <returns>The mean and log-scale of <c>z | c</c>.</returns>
        public (Tensor Mean, Tensor LogScale) LatentGaussian(Tensor context)
        {
            CheckContext(context);
            return LatentGaussian(TorchOps.Instance, context, meanWeight, meanBias, logScaleWeight, logScaleBias);
        }

        /// <summary>The log-density of each data row given its context row: <c>[N, d]</c> and <c>[N, k]</c> to <c>[N]</c>.</summary>
        /// <param name="data">Data rows.</param>
        /// <param name="context">Context rows, one per data row.</param>
        /// <returns>Natural-log conditional densities.</returns>
        public Tensor LogDensity(Tensor data, Tensor context)
        {
            CheckContext(context);
            if (context.shape[0] != data.shape[0])
                throw new ArgumentException($"Expected one context row per data row ({data.shape[0]}) but got {context.shape[0]}.", nameof(context));
            (Tensor latent, Tensor logDet) = flow.ToLatentWithLogDet(data, LayerContext(context));
            return BaseLogProb(TorchOps.Instance, latent, flow.LatentDimension, context, meanWeight, meanBias, logScaleWeight, logScaleBias) + logDet;
        }

        /// <summary>The conditional base's mean <c>c W + b</c> and log-scale <c>B tanh((c V + e) / B)</c>, written once for every interpreter.</summary>
        internal static (V Mean, V LogScale) LatentGaussian<V>(IFlowOps<V> o, V context, V meanWeight, V meanBias, V logScaleWeight, V logScaleBias)
            where V : class
        {
            V logScale = o.Mul(o.Tanh(o.Mul(o.Add(o.MatMul(context, logScaleWeight), logScaleBias), 1 / LogScaleBound)), LogScaleBound);
            return (o.Add(o.MatMul(context, meanWeight), meanBias), logScale);
        }

        /// <summary><c>log N(z; mu(c), diag(exp(2 s(c))))</c> per row.</summary>
        internal static V BaseLogProb<V>(IFlowOps<V> o, V latent, int dimension, V context, V meanWeight, V meanBias, V logScaleWeight, V logScaleBias)
            where V : class
        {
            (V mean, V logScale) = LatentGaussian(o, context, meanWeight, meanBias, logScaleWeight, logScaleBias);
            return DiagonalGaussian.LogDensity(o, latent, mean, logScale, dimension);
        }

        /// <summary>Draws one data row per context row, with the base noise scaled by <paramref name="temperature"/>.</summary>
        /// <param name="context">Context rows <c>[N, k]</c>.</param>
        /// <param name="generator">A generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <param name="temperature">The scale of the base noise: 1 samples the model, below 1 draws more typical rows. Range: greater than 0.</param>
        /// <returns>Rows <c>[N, d]</c>.</returns>
        public Tensor Sample(Tensor context, Generator? generator = null, double temperature = 1)
        {
            if (!(temperature > 0) || !double.IsFinite(temperature))
                throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite number greater than 0.");
            (Tensor mean, Tensor logScale) = LatentGaussian(context);
            Tensor noise = randn(mean.shape, dtype: mean.dtype, device: mean.device, generator: generator);
            return flow.FromLatent(mean + logScale.exp() * noise.mul(temperature), LayerContext(context)).Samples;
        }

        /// <summary>The four parameters as row-major doubles (W, b, V, e), for saving.</summary>
        internal double[][] ExportParameters() => new[] { meanWeight, meanBias, logScaleWeight, logScaleBias }
            .Select(p => p.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray()).ToArray();

        /// <summary>
        /// Sets the latent mean's weights to the ridge regression of the flow's current latents of <paramref name="data"/> on
        /// <paramref name="context"/> (with an intercept), and the log-scale's to the regression of the residuals'
        /// <c>log r^2 / 2</c> (plus 0.635, as <c>E[log chi^2_1] = -1.27</c>), so that a fit starts with each context's mean
        /// and spread in place instead of walking there with small optimizer steps.
        /// </summary>
        /// <param name="data">Data rows <c>[N, d]</c>.</param>
        /// <param name="context">Their context rows <c>[N, k]</c>.</param>
        public void InitializeMeans(Tensor data, Tensor context)
        {
            CheckContext(context);
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            Tensor latent = flow.ToLatent(data, LayerContext(context)).to_type(ScalarType.Float64);
            Tensor design = cat(new[] { context.to_type(ScalarType.Float64), ones(context.shape[0], 1, dtype: ScalarType.Float64) }, 1);
            Tensor gram = design.t().matmul(design) + eye(ContextDimension + 1, dtype: ScalarType.Float64).mul(1e-3 * context.shape[0] / (ContextDimension + 1));
            Tensor solution = linalg.solve(gram, design.t().matmul(latent));
            meanWeight.copy_(solution.narrow(0, 0, ContextDimension).to_type(meanWeight.dtype));
            meanBias.copy_(solution[ContextDimension].to_type(meanBias.dtype));
            Tensor logResidual = (latent - design.matmul(solution)).square().clamp_min(1e-12).log().mul(0.5).add(0.635);
            Tensor scaleSolution = linalg.solve(gram, design.t().matmul(logResidual)).clamp(-0.9 * LogScaleBound, 0.9 * LogScaleBound);
            logScaleWeight.copy_(scaleSolution.narrow(0, 0, ContextDimension).to_type(logScaleWeight.dtype));
            logScaleBias.copy_(scaleSolution[ContextDimension].to_type(logScaleBias.dtype));
        }

        /// <summary>Frees the conditional base's own parameters and leaves the flow alive, for an owner that keeps only the flow.</summary>
        internal void ReleaseBase()
        {
            foreach (Tensor tensor in new Tensor[] { meanWeight, meanBias, logScaleWeight, logScaleBias }) tensor.Dispose();
        }

        private Tensor? LayerContext(Tensor context) => flow.ContextWidth == 0 ? null : context;

        private void CheckContext(Tensor context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.dim() != 2 || context.shape[1] != ContextDimension)
                throw new ArgumentException($"Expected context rows of shape [N, {ContextDimension}] but got [{string.Join(", ", context.shape)}].", nameof(context));
            if (context.dtype != flow.ElementType)
                throw new ArgumentException($"Expected {flow.ElementType} context rows (the flow's element type) but got {context.dtype}.", nameof(context));
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) flow.Dispose();
            base.Dispose(disposing);
        }
    }
}
