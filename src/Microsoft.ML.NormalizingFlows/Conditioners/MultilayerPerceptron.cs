using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Conditioners
{
    /// <summary>
    /// A fully connected network <c>Linear -> ReLU -> ... -> Linear</c> used as the conditioner of coupling layers.
    /// The last layer starts at zero, so a layer it conditions starts as the identity map.
    /// </summary>
    public sealed partial class MultilayerPerceptron : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential network;

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
            var modules = new List<nn.Module<Tensor, Tensor>>();
            int width = inputs;
            for (int i = 0; i < hiddenLayers; i++)
            {
                modules.Add(nn.Linear(width, hiddenUnits));
                modules.Add(nn.ReLU());
                width = hiddenUnits;
            }
            Linear last = nn.Linear(width, outputs);
            using (no_grad())
            {
                last.weight.zero_();
                last.bias!.zero_();
            }
            modules.Add(last);
            network = nn.Sequential(modules);
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor forward(Tensor input) => network.forward(input);

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) network.Dispose();
            base.Dispose(disposing);
        }
    }
}
