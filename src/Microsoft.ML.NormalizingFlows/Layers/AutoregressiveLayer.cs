using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Conditioners;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using Microsoft.ML.NormalizingFlows.Transforms;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// An autoregressive layer: each feature goes through an element-wise monotonic map whose parameters a MADE network
    /// computes from the features before it. One direction is parallel (one network pass); the other is sequential and
    /// exact: it takes d network passes, each fixing one more feature. Masked autoregressive flows (MAF) put the
    /// parallel direction on the density side (fast scoring, slow sampling); inverse autoregressive flows (IAF) put it
    /// on the sampling side (fast sampling, slow scoring).
    /// </summary>
    public abstract class AutoregressiveLayer : ExportableFlowLayer
    {
        private readonly Made conditioner;
        private readonly IElementwiseTransform transform;
        private readonly int hiddenUnits;
        private readonly int hiddenLayers;
        private readonly bool residual;
        private readonly bool parallelOnSamplingSide;
        private readonly string typeName;

        private readonly int contextWidth;

        private protected AutoregressiveLayer(
            string typeName, int dimension, IElementwiseTransform transform, int hiddenUnits, int hiddenLayers, bool residual, bool parallelOnSamplingSide, int contextWidth)
            : base(typeName, dimension)
        {
            if (contextWidth < 0) throw new ArgumentOutOfRangeException(nameof(contextWidth), contextWidth, "The context width must be 0 (unconditional) or more.");
            this.contextWidth = contextWidth;
            this.typeName = typeName;
            this.transform = transform;
            this.hiddenUnits = hiddenUnits;
            this.hiddenLayers = hiddenLayers;
            this.residual = residual;
            this.parallelOnSamplingSide = parallelOnSamplingSide;
            conditioner = new Made(dimension, transform.ParametersPerFeature, hiddenUnits, hiddenLayers, residual, transform.FeatureMajor, contextWidth);
            register_module(nameof(conditioner), conditioner);
        }

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class =>
            inverse != parallelOnSamplingSide ? Sequential(o, input, context) : Parallel(o, input, context);

        /// <inheritdoc />
        public override int ContextWidth => contextWidth;

        /// <inheritdoc />
        public override ComponentDescription Describe()
        {
            var settings = new JsonObject
            {
                ["dimension"] = Dimension,
                ["hiddenUnits"] = hiddenUnits,
                ["hiddenLayers"] = hiddenLayers,
                ["residual"] = residual,
                ["contextWidth"] = contextWidth,
            };
            transform.Describe(settings);
            return new ComponentDescription(typeName, settings);
        }

        private protected static (int Dimension, int HiddenUnits, int HiddenLayers, bool Residual, int ContextWidth) Read(JsonObject settings) =>
            (settings["dimension"]!.GetValue<int>(), settings["hiddenUnits"]!.GetValue<int>(), settings["hiddenLayers"]!.GetValue<int>(), settings["residual"]!.GetValue<bool>(),
             settings["contextWidth"]?.GetValue<int>() ?? 0);

        // u -> tau(u; theta(u)): one network pass.
        private (V Output, V LogAbsDetJacobian) Parallel<V>(IFlowOps<V> o, V input, V? context) where V : class
        {
            (V output, V logDerivative) = transform.Apply(o, input, conditioner.Apply(o, WithContext(o, input, context)), Dimension, inverse: false);
            return (output, o.SumLast(logDerivative));
        }

        // Solves tau(u; theta(u)) = target for u: pass k fixes feature k, since theta of feature k reads features before
        // k. A fixed count of passes, so the graph has no loop; the passes share the initializers.
        private (V Output, V LogAbsDetJacobian) Sequential<V>(IFlowOps<V> o, V target, V? context) where V : class
        {
            V output = o.ZerosLike(target);
            V logDerivative = output;
            for (int pass = 0; pass < Dimension; pass++)
                (output, logDerivative) = transform.Apply(o, target, conditioner.Apply(o, WithContext(o, output, context)), Dimension, inverse: true);
            return (output, o.SumLast(logDerivative));
        }

        private static V WithContext<V>(IFlowOps<V> o, V features, V? context) where V : class =>
            context is null ? features : o.Concat(1, features, context);

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) conditioner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// A masked autoregressive flow layer (MAF; Papamakarios, Pavlakou and Murray, 2017):
    /// <c>z_i = x_i exp(s_i) + t_i</c> with <c>(s_i, t_i)</c> from <c>x_1..x_(i-1)</c>, <c>s = B tanh(raw / B)</c>.
    /// Density (data to latent) is one network pass; sampling is exact but takes d sequential passes.
    /// </summary>
    public sealed class MaskedAutoregressive : AutoregressiveLayer
    {
        internal const string TypeName = nameof(MaskedAutoregressive);

        /// <summary>Creates the layer.</summary>
        /// <param name="dimension">d, at least 1.</param>
        /// <param name="hiddenUnits">The MADE hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The MADE hidden layers (or residual blocks); at least 1.</param>
        /// <param name="logScaleBound">The bound B on the absolute log-scale; greater than 0.</param>
        /// <param name="residual">Whether MADE uses residual blocks.</param>
        /// <param name="contextWidth">The context values per row MADE also reads; 0 (the default) for an unconditional layer.</param>
        public MaskedAutoregressive(int dimension, int hiddenUnits, int hiddenLayers, double logScaleBound, bool residual = false, int contextWidth = 0)
            : base(TypeName, dimension, new AffineTransform(logScaleBound), hiddenUnits, hiddenLayers, residual, parallelOnSamplingSide: false, contextWidth)
        {
        }

        internal static MaskedAutoregressive Create(JsonObject s)
        {
            (int d, int units, int layers, bool residual, int context) = Read(s);
            return new MaskedAutoregressive(d, units, layers, AffineTransform.Create(s).LogScaleBound, residual, context);
        }
    }

    /// <summary>
    /// An inverse autoregressive flow layer (IAF; Kingma et al., 2016): on the sampling side
    /// <c>x_i = z_i exp(s_i) + t_i</c> with <c>(s_i, t_i)</c> from <c>z_1..z_(i-1)</c>. Sampling (and the density of
    /// its own samples) is one network pass; the density of given data is exact but takes d sequential passes.
    /// </summary>
    public sealed class InverseAutoregressive : AutoregressiveLayer
    {
        internal const string TypeName = nameof(InverseAutoregressive);

        /// <summary>Creates the layer.</summary>
        /// <param name="dimension">d, at least 1.</param>
        /// <param name="hiddenUnits">The MADE hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The MADE hidden layers (or residual blocks); at least 1.</param>
        /// <param name="logScaleBound">The bound B on the absolute log-scale; greater than 0.</param>
        /// <param name="residual">Whether MADE uses residual blocks.</param>
        /// <param name="contextWidth">The context values per row MADE also reads; 0 (the default) for an unconditional layer.</param>
        public InverseAutoregressive(int dimension, int hiddenUnits, int hiddenLayers, double logScaleBound, bool residual = false, int contextWidth = 0)
            : base(TypeName, dimension, new AffineTransform(logScaleBound), hiddenUnits, hiddenLayers, residual, parallelOnSamplingSide: true, contextWidth)
        {
        }

        internal static InverseAutoregressive Create(JsonObject s)
        {
            (int d, int units, int layers, bool residual, int context) = Read(s);
            return new InverseAutoregressive(d, units, layers, AffineTransform.Create(s).LogScaleBound, residual, context);
        }
    }

    /// <summary>
    /// The autoregressive rational-quadratic spline layer of Neural Spline Flows: each feature goes through a spline
    /// of K bins on <c>[-B, B]</c> (identity outside) whose parameters MADE computes from the features before it.
    /// Density is one network pass; sampling is exact but takes d sequential passes.
    /// </summary>
    public sealed class SplineAutoregressive : AutoregressiveLayer
    {
        internal const string TypeName = nameof(SplineAutoregressive);

        /// <summary>Creates the layer.</summary>
        /// <param name="dimension">d, at least 1.</param>
        /// <param name="hiddenUnits">The MADE hidden width; at least 1.</param>
        /// <param name="hiddenLayers">The MADE hidden layers (or residual blocks); at least 1.</param>
        /// <param name="bins">K, at least 2.</param>
        /// <param name="tailBound">B, greater than 0.</param>
        /// <param name="residual">Whether MADE uses residual blocks.</param>
        /// <param name="contextWidth">The context values per row MADE also reads; 0 (the default) for an unconditional layer.</param>
        public SplineAutoregressive(int dimension, int hiddenUnits, int hiddenLayers, int bins, double tailBound, bool residual = false, int contextWidth = 0)
            : base(TypeName, dimension, new SplineTransform(bins, tailBound), hiddenUnits, hiddenLayers, residual, parallelOnSamplingSide: false, contextWidth)
        {
        }

        internal static SplineAutoregressive Create(JsonObject s)
        {
            (int d, int units, int layers, bool residual, int context) = Read(s);
            SplineTransform spline = SplineTransform.Create(s);
            return new SplineAutoregressive(d, units, layers, spline.Bins, spline.TailBound, residual, context);
        }
    }
}
