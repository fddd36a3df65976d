using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// Activation normalization (Kingma and Dhariwal, 2018): a learned per-feature affine map
    /// <c>y = (x - b) exp(-s)</c>, <c>log|det J| = -sum(s)</c>, initialized from data so that its first training batch
    /// comes out with zero mean and unit variance per feature. Initialization happens on the first Forward call in
    /// training mode, or explicitly with <see cref="Initialize"/>.
    /// </summary>
    public sealed class ActNorm : ExportableFlowLayer
    {
        internal const string TypeName = nameof(ActNorm);

        private readonly Parameter bias;
        private readonly Parameter logScale;
        private readonly Tensor initialized;
        private bool knownInitialized;

        /// <summary>Creates the layer at the identity, not yet initialized from data.</summary>
        /// <param name="dimension">d, at least 1.</param>
        public ActNorm(int dimension) : base(TypeName, dimension)
        {
            bias = new Parameter(zeros(dimension));
            logScale = new Parameter(zeros(dimension));
            initialized = zeros(1);
            register_buffer(nameof(initialized), initialized);
            RegisterComponents();
        }

        /// <summary>Whether the data-dependent initialization has happened.</summary>
        public bool IsInitialized => knownInitialized || (knownInitialized = initialized.to_type(ScalarType.Float32).item<float>() > 0);

        /// <summary>Sets the bias to the per-feature mean of <paramref name="data"/> and the scale to its standard deviation.</summary>
        /// <param name="data">Rows <c>[N, d]</c> as they arrive at this layer, N at least 2.</param>
        public void Initialize(Tensor data)
        {
            ArgumentNullException.ThrowIfNull(data);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            bias.copy_(data.mean(new long[] { 0 }));
            logScale.copy_((data.std(0) + 1e-6).log());
            initialized.fill_(1);
            knownInitialized = true;
        }

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class
        {
            // Once initialized (the usual case) this reads no tensor value, so a forward pass never waits on the device.
            if (!inverse && training && input is Tensor rows && !IsInitialized && rows.shape[0] > 1) Initialize(rows);
            V s = o.State(logScale);
            V logDet = o.ExpandRows(o.SumLast(s), input);
            return inverse
                ? (o.Add(o.Mul(input, o.Exp(s)), o.State(bias)), logDet)
                : (o.Mul(o.Sub(input, o.State(bias)), o.Exp(o.Neg(s))), o.Neg(logDet));
        }

        /// <inheritdoc />
        public override ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static ActNorm Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
