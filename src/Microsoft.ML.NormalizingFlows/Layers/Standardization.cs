using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// A fixed (not trained) per-feature standardization <c>z = (x - mean) / scale</c>, with
    /// <c>log|det J| = -sum(log scale)</c>. Placed first in a flow, it lets the remaining layers work on values of
    /// order one while log-densities stay in the data's own units.
    /// </summary>
    public sealed class Standardization : ExportableFlowLayer
    {
        internal const string TypeName = "Standardization";

        private readonly Tensor mean;
        private readonly Tensor scale;
        private readonly Tensor logScaleSum;

        /// <summary>Creates the layer from per-feature means and positive scales.</summary>
        /// <param name="mean">The per-feature means; its length is the dimension.</param>
        /// <param name="scale">The per-feature scales (standard deviations); each finite and greater than zero.</param>
        public Standardization(double[] mean, double[] scale) : base(nameof(Standardization), mean?.Length ?? 0)
        {
            ArgumentNullException.ThrowIfNull(mean);
            ArgumentNullException.ThrowIfNull(scale);
            if (scale.Length != mean.Length)
                throw new ArgumentException($"The scale has {scale.Length} values but the mean has {mean.Length}.", nameof(scale));
            for (int i = 0; i < scale.Length; i++)
            {
                if (!(scale[i] > 0) || double.IsInfinity(scale[i]) || !double.IsFinite(mean[i]))
                    throw new ArgumentException($"Feature {i} has mean {mean[i]} and scale {scale[i]}; the mean must be finite and the scale finite and positive.", nameof(scale));
            }
            this.mean = tensor(mean.Select(v => (float)v).ToArray());
            this.scale = tensor(scale.Select(v => (float)v).ToArray());
            logScaleSum = tensor(scale.Sum(Math.Log), ScalarType.Float32);
            register_buffer(nameof(this.mean), this.mean);
            register_buffer(nameof(this.scale), this.scale);
            register_buffer(nameof(logScaleSum), logScaleSum);
        }

        /// <summary>The per-feature means, as doubles.</summary>
        public double[] Mean => mean.to_type(ScalarType.Float64).data<double>().ToArray();

        /// <summary>The per-feature scales, as doubles.</summary>
        public double[] Scale => scale.to_type(ScalarType.Float64).data<double>().ToArray();

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class
        {
            V logDet = o.ExpandRows(o.State(logScaleSum), input);
            return inverse
                ? (o.Add(o.Mul(input, o.State(scale)), o.State(mean)), logDet)
                : (o.Div(o.Sub(input, o.State(mean)), o.State(scale)), o.Neg(logDet));
        }

        /// <inheritdoc />
        public override ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        // The mean and scale are placeholders here: loading a flow file copies the stored values over them.
        internal static Standardization Create(JsonObject settings)
        {
            int dimension = settings["dimension"]!.GetValue<int>();
            return new Standardization(new double[dimension], Enumerable.Repeat(1.0, dimension).ToArray());
        }
    }
}
