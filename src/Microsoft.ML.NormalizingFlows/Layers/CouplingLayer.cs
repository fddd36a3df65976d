using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Conditioners;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Ops;
using Microsoft.ML.NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// A coupling layer (Dinh et al.): the features where the mask is <c>true</c> (the identity part <c>x_a</c>) pass
    /// unchanged and condition an element-wise monotonic map of the others (the transformed part <c>x_b</c>),
    /// <c>y_a = x_a</c>, <c>y_b = tau(x_b; NN(x_a))</c>, with <c>log|det J| = sum log|tau'(x_b)|</c>. The conditioner
    /// reads only <c>x_a</c> and gives parameters for <c>x_b</c> only; both directions cost one conditioner pass. Its
    /// last layer starts at zero, so every coupling starts as the identity. A conditional coupling's conditioner reads
    /// the context too, <c>NN([x_a, c])</c>. With no identity feature (a 1-D flow) the conditioner reads only the
    /// context, or a constant without one, so the map's parameters are learned (functions of the context or) constants.
    /// </summary>
    public abstract class CouplingLayer : ExportableFlowLayer
    {
        private readonly bool[] mask;
        private readonly int identityCount;
        private readonly int transformedCount;
        // Both parts contiguous (the alternating halves): slices and a concatenation instead of gathers.
        private readonly bool contiguous;
        private readonly bool identityFirst;
        // Column indices, only for parts that are not contiguous (a custom mask); the halves need none.
        private readonly Tensor? identityIndex;
        private readonly Tensor? transformedIndex;
        private readonly Tensor? mergeIndex;
        private readonly MultilayerPerceptron conditioner;
        private readonly IElementwiseTransform transform;
        private readonly int hiddenUnits;
        private readonly int hiddenLayers;
        private readonly int contextWidth;
        private readonly string typeName;

        private protected CouplingLayer(string typeName, bool[] mask, IElementwiseTransform transform, int hiddenUnits, int hiddenLayers, int contextWidth)
            : base(typeName, mask?.Length ?? 0)
        {
            if (contextWidth < 0) throw new ArgumentOutOfRangeException(nameof(contextWidth), contextWidth, "The context width must be 0 (unconditional) or more.");
            this.contextWidth = contextWidth;
            ArgumentNullException.ThrowIfNull(mask);
            if (mask.All(passed => passed))
                throw new ArgumentException("The mask passes every feature, so the layer would be the identity; mark at least one feature false (transformed).", nameof(mask));
            this.mask = (bool[])mask.Clone();
            this.typeName = typeName;
            this.transform = transform;
            this.hiddenUnits = hiddenUnits;
            this.hiddenLayers = hiddenLayers;
            long[] identity = Enumerable.Range(0, Dimension).Where(j => mask[j]).Select(j => (long)j).ToArray();
            long[] transformed = Enumerable.Range(0, Dimension).Where(j => !mask[j]).Select(j => (long)j).ToArray();
            identityCount = identity.Length;
            transformedCount = transformed.Length;
            identityFirst = identity.Length == 0 || identity[0] == 0;
            contiguous = Contiguous(identity) && Contiguous(transformed);
            conditioner = new MultilayerPerceptron(System.Math.Max(1, identityCount + contextWidth), transformedCount * transform.ParametersPerFeature, hiddenUnits, hiddenLayers);
            if (!contiguous)
            {
                // Concatenating [x_a, y_b] and then picking columns by mergeIndex puts every feature back in its place.
                long[] merge = new long[Dimension];
                long[] concatenated = identity.Concat(transformed).ToArray();
                for (int position = 0; position < Dimension; position++) merge[concatenated[position]] = position;
                identityIndex = tensor(identity);
                transformedIndex = tensor(transformed);
                mergeIndex = tensor(merge);
                register_buffer(nameof(identityIndex), identityIndex);
                register_buffer(nameof(transformedIndex), transformedIndex);
                register_buffer(nameof(mergeIndex), mergeIndex);
            }
            register_module(nameof(conditioner), conditioner);
        }

        /// <summary>
        /// The mask of coupling layer <paramref name="index"/> in an alternating sequence: even layers pass the first
        /// <c>ceil(d / 2)</c> features and transform the rest, odd layers the reverse, so every feature is transformed
        /// every other layer. Halves, not a checkerboard: both parts are contiguous, so splitting and merging are
        /// slices and a concatenation. A single feature is always transformed (conditioned on the context or a constant).
        /// </summary>
        /// <param name="dimension">The number of features.</param>
        /// <param name="index">The position of the coupling layer in the flow.</param>
        /// <returns>The mask; <c>true</c> marks a feature passed unchanged.</returns>
        public static bool[] AlternatingMask(int dimension, int index)
        {
            if (dimension == 1) return new[] { false };
            int half = (dimension + 1) / 2;
            return Enumerable.Range(0, dimension).Select(j => (j < half) == (index % 2 == 0)).ToArray();
        }

        /// <inheritdoc />
        public override int ContextWidth => contextWidth;

        /// <inheritdoc />
        public override ComponentDescription Describe()
        {
            var settings = new JsonObject
            {
                ["mask"] = new JsonArray(mask.Select(v => (JsonNode)v).ToArray()),
                ["hiddenUnits"] = hiddenUnits,
                ["hiddenLayers"] = hiddenLayers,
                ["contextWidth"] = contextWidth,
            };
            transform.Describe(settings);
            return new ComponentDescription(typeName, settings);
        }

        private protected static (bool[] Mask, int HiddenUnits, int HiddenLayers, int ContextWidth) Read(JsonObject settings) =>
            (settings["mask"]!.AsArray().Select(n => n!.GetValue<bool>()).ToArray(), settings["hiddenUnits"]!.GetValue<int>(), settings["hiddenLayers"]!.GetValue<int>(),
             settings["contextWidth"]?.GetValue<int>() ?? 0);

        /// <inheritdoc />
        protected internal override (V Output, V? LogAbsDetJacobian) Map<V>(IFlowOps<V> o, V input, V? context, bool inverse) where V : class
        {
            V transformed = contiguous ? o.Narrow(input, 1, identityFirst ? identityCount : 0, transformedCount) : o.SelectColumns(input, o.State(transformedIndex!));
            V? identity = identityCount == 0 ? null
                : contiguous ? o.Narrow(input, 1, identityFirst ? 0 : transformedCount, identityCount) : o.SelectColumns(input, o.State(identityIndex!));
            V conditionerInput = (identity, context) switch
            {
                (not null, not null) => o.Concat(1, identity, context),
                (not null, null) => identity,
                (null, not null) => context,
                _ => o.ZerosLike(o.Narrow(input, 1, 0, 1)),
            };
            (V mapped, V logDerivative) = transform.Apply(o, transformed, conditioner.Apply(o, conditionerInput), transformedCount, inverse);
            V output = identity is null ? mapped
                : !contiguous ? o.SelectColumns(o.Concat(1, identity, mapped), o.State(mergeIndex!))
                : identityFirst ? o.Concat(1, identity, mapped) : o.Concat(1, mapped, identity);
            return (output, o.SumLast(logDerivative));
        }

        private static bool Contiguous(long[] indices) => indices.Zip(indices.Skip(1)).All(pair => pair.Second == pair.First + 1);

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing) conditioner.Dispose();
            base.Dispose(disposing);
        }
    }
}
