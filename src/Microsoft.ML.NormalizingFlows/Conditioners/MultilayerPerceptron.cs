using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Conditioners
{
    /// <summary>
    /// A fully connected network <c>Linear -> ReLU -> ... -> Linear</c> used as the conditioner of coupling layers.
    /// The last layer starts at zero, so a layer it conditions starts as the identity map.
    /// </summary>
    public sealed class MultilayerPerceptron : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<DenseLayer> layers;

        /// <summary>Creates the network.</summary>
        /// <param name="inputs">The number of input values; at least 1.</param>
        /// <param name="outputs">The number of output values; at least 1.</param>
        /// <param name="hiddenUnits">The width of each hidden layer; at least 1.</param>
        /// <param name="hiddenLayers">The number of hidden layers; at least 1.</param>
        public MultilayerPerceptron(int inputs, int outputs, int hiddenUnits, int hiddenLayers) : base(nameof(MultilayerPerceptron))
        {
            if (inputs < 1) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "Must be at least 1.");
            if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Must be at least 1.");
            if (hiddenUnits < 1) throw new ArgumentOutOfRangeException(nameof(hiddenUnits), hiddenUnits, "Must be at least 1.");
            if (hiddenLayers < 1) throw new ArgumentOutOfRangeException(nameof(hiddenLayers), hiddenLayers, "Must be at least 1.");
            var list = new List<DenseLayer>();
            int width = inputs;
            for (int i = 0; i < hiddenLayers; i++)
            {
                list.Add(new DenseLayer(width, hiddenUnits, zeroInitialized: false));
                width = hiddenUnits;
            }
            list.Add(new DenseLayer(width, outputs, zeroInitialized: true));
            layers = nn.ModuleList(list.ToArray());
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor forward(Tensor input) => Apply(TorchOps.Instance, input);

        /// <summary>The network over <paramref name="o"/>: <c>[N, inputs]</c> to <c>[N, outputs]</c>.</summary>
        internal V Apply<V>(IFlowOps<V> o, V input) where V : class
        {
            V h = input;
            for (int i = 0; i < layers.Count; i++)
            {
                if (i > 0) h = o.Relu(h);
                h = o.Linear(h, o.State(layers[i].Weight), o.State(layers[i].Bias));
            }
            return h;
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) layers.Dispose();
            base.Dispose(disposing);
        }
    }
}
