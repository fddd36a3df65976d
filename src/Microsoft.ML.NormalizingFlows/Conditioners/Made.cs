using Microsoft.ML.NormalizingFlows.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Conditioners
{
    /// <summary>
    /// MADE, the masked autoencoder of Germain, Gregor, Murray and Larochelle (2015): a network whose output for feature
    /// i depends only on features before i (in index order), and on context inputs if it has any. It gives <c>parametersPerFeature</c> outputs per feature,
    /// <c>[N, d * P]</c>, laid out feature-major (feature i at <c>i * P .. i * P + P - 1</c>) or parameter-major
    /// (parameter p of feature i at <c>p * d + i</c>), as the transform it feeds reads them. Hidden units get degrees
    /// <c>1 .. d - 1</c> cyclically (no randomness); with residual blocks, each block adds
    /// <c>W2 relu(W1 relu(h))</c> to h with degree-preserving masks. The last layer starts at zero.
    /// </summary>
    public sealed class Made : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<MaskedLinear> layers;
        private readonly bool residual;

        /// <summary>Creates the network.</summary>
        /// <param name="features">d, at least 1 (with 1 feature every output is a learned constant).</param>
        /// <param name="parametersPerFeature">P, at least 1.</param>
        /// <param name="hiddenUnits">Hidden width, at least 1.</param>
        /// <param name="hiddenLayers">Hidden layers (or residual blocks), at least 1.</param>
        /// <param name="residual">Whether the hidden layers are residual blocks.</param>
        /// <param name="featureMajor">The output layout: feature-major (true) or parameter-major (false).</param>
        /// <param name="contextFeatures">Context inputs after the d features (degree 0: every output may read them); 0 or more.</param>
        public Made(int features, int parametersPerFeature, int hiddenUnits, int hiddenLayers, bool residual, bool featureMajor, int contextFeatures = 0) : base(nameof(Made))
        {
            if (contextFeatures < 0) throw new ArgumentOutOfRangeException(nameof(contextFeatures), contextFeatures, "Must be 0 or more.");
            if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
            if (parametersPerFeature < 1) throw new ArgumentOutOfRangeException(nameof(parametersPerFeature), parametersPerFeature, "Must be at least 1.");
            if (hiddenUnits < 1) throw new ArgumentOutOfRangeException(nameof(hiddenUnits), hiddenUnits, "Must be at least 1.");
            if (hiddenLayers < 1) throw new ArgumentOutOfRangeException(nameof(hiddenLayers), hiddenLayers, "Must be at least 1.");
            this.residual = residual;
            int[] input = Enumerable.Range(1, features).Concat(Enumerable.Repeat(0, contextFeatures)).ToArray();
            // With one feature and a context, hidden units read the context only (degree 0), so the output can follow it.
            int[] hidden = Enumerable.Range(0, hiddenUnits).Select(k => features == 1 && contextFeatures > 0 ? 0 : k % System.Math.Max(1, features - 1) + 1).ToArray();
            int[] output = Enumerable.Range(0, features * parametersPerFeature)
                .Select(o => (featureMajor ? o / parametersPerFeature : o % features) + 1).ToArray();

            var list = new List<MaskedLinear> { new(Mask(hidden, input, strict: false)) };
            int middle = residual ? 2 * hiddenLayers : hiddenLayers - 1;
            for (int i = 0; i < middle; i++) list.Add(new MaskedLinear(Mask(hidden, hidden, strict: false)));
            list.Add(new MaskedLinear(Mask(output, hidden, strict: true), zeroInitialized: true));
            layers = nn.ModuleList(list.ToArray());
            RegisterComponents();
        }

        /// <inheritdoc />
        public override Tensor forward(Tensor input) => Apply(TorchOps.Instance, input);

        /// <summary>The network over <paramref name="o"/>: <c>[N, d]</c> to <c>[N, d * P]</c>.</summary>
        internal V Apply<V>(IFlowOps<V> o, V input) where V : class
        {
            V h = layers[0].Apply(o, input);
            int last = layers.Count - 1;
            if (residual)
            {
                for (int i = 1; i < last; i += 2)
                    h = o.Add(h, layers[i + 1].Apply(o, o.Relu(layers[i].Apply(o, o.Relu(h)))));
            }
            else
            {
                for (int i = 1; i < last; i++) h = layers[i].Apply(o, o.Relu(h));
            }
            return layers[last].Apply(o, o.Relu(h));
        }

        // Connection o <- i allowed when degree(o) >= degree(i), or > for the output layer.
        private static bool[,] Mask(int[] to, int[] from, bool strict)
        {
            var mask = new bool[to.Length, from.Length];
            for (int o = 0; o < to.Length; o++)
                for (int i = 0; i < from.Length; i++) mask[o, i] = strict ? to[o] > from[i] : to[o] >= from[i];
            return mask;
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) layers.Dispose();
            base.Dispose(disposing);
        }
    }
}
