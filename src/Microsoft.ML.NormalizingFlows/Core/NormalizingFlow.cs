using Microsoft.ML.NormalizingFlows.Distributions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A normalizing flow: a base distribution and a sequence of invertible layers. Data <c>x</c> maps to a latent
    /// <c>z = f_K(...f_1(x))</c> through the layers' <see cref="FlowLayer.Forward(Tensor)"/> directions, and
    /// <c>log p(x) = log p_base(z) + sum_k log|det J_k|</c>. Sampling runs the layers' <see cref="FlowLayer.Inverse(Tensor)"/>
    /// directions from base draws, last layer first.
    /// </summary>
    /// <remarks>
    /// The flow is a TorchSharp module: its element type follows its parameters (float32 unless converted with
    /// <c>flow.to(ScalarType.Float64)</c>), and inputs must have that type. Methods neither open dispose scopes nor
    /// switch off gradients: callers decide, as with any module.
    /// </remarks>
    public sealed class NormalizingFlow : nn.Module
    {
        private readonly ModuleList<FlowLayer> layers;
        private readonly BaseDistribution baseDistribution;

        /// <summary>Creates a flow from a base distribution and layers ordered from the data side to the latent side.</summary>
        /// <param name="baseDistribution">The distribution of the latent variable.</param>
        /// <param name="layers">The layers; each must have the base distribution's dimension.</param>
        public NormalizingFlow(BaseDistribution baseDistribution, IEnumerable<FlowLayer> layers) : base(nameof(NormalizingFlow))
        {
            ArgumentNullException.ThrowIfNull(baseDistribution);
            ArgumentNullException.ThrowIfNull(layers);
            FlowLayer[] list = layers.ToArray();
            for (int i = 0; i < list.Length; i++)
            {
                if (list[i] is null) throw new ArgumentException($"Layer {i} is null.", nameof(layers));
                // Only a first layer may drop slots (the point-mass layer): every other layer works at the base's dimension.
                int expected = i == 0 ? list[i].Dimension : baseDistribution.Dimension;
                if (list[i].Dimension != expected || list[i].OutputDimension != baseDistribution.Dimension)
                    throw new ArgumentException($"Layer {i} ({list[i].GetType().Name}) has dimension {list[i].Dimension} but the base distribution has {baseDistribution.Dimension}.", nameof(layers));
            }
            Dimension = list.Length > 0 ? list[0].Dimension : baseDistribution.Dimension;
            int[] widths = list.Select(l => l.ContextWidth).Where(w => w > 0).Distinct().ToArray();
            if (widths.Length > 1)
                throw new ArgumentException($"The conditional layers read contexts of different widths ({string.Join(", ", widths)}); a flow has one context per row.", nameof(layers));
            ContextWidth = widths.SingleOrDefault();
            this.baseDistribution = baseDistribution;
            this.layers = nn.ModuleList(list);
            RegisterComponents();
            // A flow lives as long as its owner, not as long as the dispose scope it happened to be built in (a transformer
            // rebuilds its flow lazily, maybe inside a caller's scope): its parameters and buffers leave any scope.
            foreach (Tensor tensor in parameters()) tensor.DetachFromDisposeScope();
            foreach (Tensor tensor in buffers()) tensor.DetachFromDisposeScope();
        }

        /// <summary>The number of values in a data row.</summary>
        public int Dimension { get; }

        /// <summary>The number of values in a latent row: <see cref="Dimension"/>, less the slots a point-mass first layer drops.</summary>
        internal int LatentDimension => baseDistribution.Dimension;

        /// <summary>The point-mass layer of the slots the training rows determined (constants, repeats), or <c>null</c>.</summary>
        internal Layers.PointMassSlots? PointMassSlots => layers.Count > 0 ? layers[0] as Layers.PointMassSlots : null;

        /// <summary>The context values per row its conditional layers read (0 for an unconditional flow): <c>p(x | c)</c>.</summary>
        public int ContextWidth { get; }

        /// <summary>The layers, from the data side to the latent side.</summary>
        public IReadOnlyList<FlowLayer> Layers => layers.ToArray();

        /// <summary>The base (latent) distribution.</summary>
        public BaseDistribution BaseDistribution => baseDistribution;

        /// <summary>
        /// The element type of the flow's floating parameters and buffers (the type its inputs must have); Float32 for a
        /// flow without any (for example one made of permutations only), which then accepts any floating input.
        /// </summary>
        public ScalarType ElementType => FloatingStateType ?? ScalarType.Float32;

        // Read once and again after each conversion (to), not per pass: enumerating the parameters costs each LogDensity call.
        private ScalarType? FloatingStateType
        {
            get
            {
                if (!floatingStateTypeKnown)
                {
                    floatingStateType = parameters().Select(p => p.dtype).Concat(buffers().Where(b => b.is_floating_point()).Select(b => b.dtype))
                        .Select(t => (ScalarType?)t).FirstOrDefault();
                    floatingStateTypeKnown = true;
                }
                return floatingStateType;
            }
        }

        private ScalarType? floatingStateType;
        private bool floatingStateTypeKnown;

        /// <inheritdoc />
        protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
        {
            base._toEpilog(dtype, device, non_blocking);
            floatingStateTypeKnown = false;
        }

        /// <summary>The device of the flow's parameters and buffers.</summary>
        public Device Device => parameters().Concat(buffers()).Select(p => p.device).DefaultIfEmpty(CPU).First();

        /// <summary>Maps rows <c>[N, d]</c> to the latent space and returns the total <c>log|det J|</c> per row.</summary>
        /// <param name="data">Data rows.</param>
        /// <param name="context">The rows' context <c>[N, ContextWidth]</c> for a conditional flow, else <c>null</c>.</param>
        /// <returns>The latent rows and the log-determinant of the whole map, per row.</returns>
        public (Tensor Latent, Tensor LogAbsDetJacobian) ToLatentWithLogDet(Tensor data, Tensor? context = null)
        {
            CheckRows(data, nameof(data), Dimension);
            CheckContext(context, data.shape[0]);
            Tensor current = data;
            Tensor total = zeros(data.shape[0], dtype: data.dtype, device: data.device);
            foreach (FlowLayer layer in layers)
            {
                (current, Tensor logDet) = layer.Forward(current, context);
                total = total + logDet;
            }
            return (current, total);
        }

        /// <summary>Maps rows <c>[N, d]</c> to the latent space.</summary>
        /// <param name="data">Data rows.</param>
        /// <param name="context">The rows' context for a conditional flow, else <c>null</c>.</param>
        /// <returns>The latent rows.</returns>
        public Tensor ToLatent(Tensor data, Tensor? context = null) => ToLatentWithLogDet(data, context).Latent;

        /// <summary>The log-density of each row under the flow (<c>[N, d]</c> to <c>[N]</c>), in the data's units.</summary>
        /// <param name="data">Data rows.</param>
        /// <param name="context">The rows' context for a conditional flow (then <c>log p(x | c)</c>), else <c>null</c>.</param>
        /// <returns>Natural-log densities, one per row.</returns>
        public Tensor LogDensity(Tensor data, Tensor? context = null)
        {
            (Tensor latent, Tensor logDet) = ToLatentWithLogDet(data, context);
            return baseDistribution.LogProb(latent) + logDet;
        }

        /// <summary>Maps latent rows to data rows and returns their log-density under the flow.</summary>
        /// <param name="latent">Latent rows <c>[N, d]</c>, for example draws from the base distribution.</param>
        /// <param name="context">The rows' context for a conditional flow, else <c>null</c>.</param>
        /// <returns>The data rows and their log-densities.</returns>
        public (Tensor Samples, Tensor LogDensity) FromLatent(Tensor latent, Tensor? context = null)
        {
            CheckRows(latent, nameof(latent), LatentDimension);
            CheckContext(context, latent.shape[0]);
            Tensor current = latent;
            Tensor logDensity = baseDistribution.LogProb(latent);
            for (int i = layers.Count - 1; i >= 0; i--)
            {
                (current, Tensor logDet) = layers[i].Inverse(current, context);
                logDensity = logDensity - logDet;
            }
            return (current, logDensity);
        }

        /// <summary>Draws rows from the flow with their log-densities.</summary>
        /// <param name="count">How many rows; at least 1.</param>
        /// <param name="generator">A generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <param name="context">For a conditional flow, the context of each draw <c>[count, ContextWidth]</c>; else <c>null</c>.</param>
        /// <returns>Rows <c>[count, d]</c> and their log-densities <c>[count]</c>.</returns>
        public (Tensor Samples, Tensor LogDensity) SampleWithLogDensity(long count, Generator? generator = null, Tensor? context = null)
        {
            if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Draw at least one row.");
            CheckContext(context, count);
            return FromLatent(baseDistribution.Sample(count, ElementType, Device, generator), context);
        }

        /// <summary>Draws rows from the flow.</summary>
        /// <param name="count">How many rows; at least 1.</param>
        /// <param name="generator">A generator for reproducible draws, or <c>null</c> for TorchSharp's global one.</param>
        /// <returns>Rows <c>[count, d]</c>.</returns>
        public Tensor Sample(long count, Generator? generator = null) => SampleWithLogDensity(count, generator).Samples;

        private void CheckContext(Tensor? context, long rows)
        {
            if (ContextWidth == 0)
            {
                if (context is not null) throw new ArgumentException("The flow is unconditional (no layer reads a context); pass no context.", nameof(context));
                return;
            }
            ContextRows.Check(context, ContextWidth, rows, "The flow");
            if (context.dtype != ElementType)
                throw new ArgumentException($"Expected a {ElementType} context (the flow's element type) but got {context.dtype}.", nameof(context));
        }

        private void CheckRows(Tensor rows, string name, int width)
        {
            ArgumentNullException.ThrowIfNull(rows, name);
            if (rows.dim() != 2 || rows.shape[1] != width)
                throw new ArgumentException($"Expected rows of shape [N, {width}] but got [{string.Join(", ", rows.shape)}].", name);
            ScalarType expected = FloatingStateType ?? (rows.is_floating_point() ? rows.dtype : ScalarType.Float32);
            if (rows.dtype != expected)
                throw new ArgumentException($"Expected {expected} rows (the flow's element type) but got {rows.dtype}; convert the input or the flow.", name);
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                layers.Dispose();
                baseDistribution.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
