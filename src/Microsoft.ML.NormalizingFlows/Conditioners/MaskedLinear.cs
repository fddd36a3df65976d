using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Conditioners
{
    /// <summary>A linear layer whose weight is multiplied by a fixed binary mask: <c>y = x (W * M)^T + b</c>.</summary>
    public sealed class MaskedLinear : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter weight;
        private readonly Parameter bias;
        private readonly Tensor mask;

        /// <summary>Creates the layer with PyTorch's default uniform initialization.</summary>
        /// <param name="mask">The mask, shape <c>[outputs, inputs]</c>; <c>true</c> keeps a connection.</param>
        /// <param name="zeroInitialized">Whether to start with zero weight and bias (an identity start for the last layer of a conditioner).</param>
        public MaskedLinear(bool[,] mask, bool zeroInitialized = false) : base(nameof(MaskedLinear))
        {
            ArgumentNullException.ThrowIfNull(mask);
            int outputs = mask.GetLength(0), inputs = mask.GetLength(1);
            var values = new float[outputs * inputs];
            for (int o = 0; o < outputs; o++)
                for (int i = 0; i < inputs; i++) values[o * inputs + i] = mask[o, i] ? 1f : 0f;
            this.mask = tensor(values, new long[] { outputs, inputs });
            double bound = 1 / System.Math.Sqrt(inputs);
            weight = new Parameter(zeroInitialized ? zeros(outputs, inputs) : ParameterInitialization.Uniform(new long[] { outputs, inputs }, bound));
            bias = new Parameter(zeroInitialized ? zeros(outputs) : ParameterInitialization.Uniform(new long[] { outputs }, bound));
            register_buffer(nameof(this.mask), this.mask);
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor forward(Tensor input) => Apply(TorchOps.Instance, input);

        /// <summary>The layer over <paramref name="o"/> (in a graph the masked weight is a product of two initializers, folded at load).</summary>
        internal V Apply<V>(IFlowOps<V> o, V input) where V : class => o.Linear(input, o.Mul(o.State(weight), o.State(mask)), o.State(bias));
    }
}
