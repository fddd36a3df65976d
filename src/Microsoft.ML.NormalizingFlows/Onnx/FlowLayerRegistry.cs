using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Layers;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// Factories that rebuild layers and base distributions from their <see cref="ComponentDescription"/> when a flow
    /// file is loaded. The built-in components are registered; register custom ones before loading files that use them.
    /// </summary>
    public static class FlowLayerRegistry
    {
        private static readonly ConcurrentDictionary<string, Func<JsonObject, FlowLayer>> Layers = new()
        {
            [AffineCoupling.TypeName] = AffineCoupling.Create,
            [SplineCoupling.TypeName] = SplineCoupling.Create,
            [MaskedAutoregressive.TypeName] = MaskedAutoregressive.Create,
            [InverseAutoregressive.TypeName] = InverseAutoregressive.Create,
            [SplineAutoregressive.TypeName] = SplineAutoregressive.Create,
            [ActNorm.TypeName] = ActNorm.Create,
            [LUInvertibleLinear.TypeName] = LUInvertibleLinear.Create,
            [PlanarLayer.TypeName] = PlanarLayer.Create,
            [RadialLayer.TypeName] = RadialLayer.Create,
            [Permutation.TypeName] = Permutation.Create,
            [Standardization.TypeName] = Standardization.Create,
            [PointMassSlots.TypeName] = PointMassSlots.Create,
        };

        private static readonly ConcurrentDictionary<string, Func<JsonObject, BaseDistribution>> Distributions = new()
        {
            [StandardNormal.TypeName] = StandardNormal.Create,
            [DiagonalGaussian.TypeName] = DiagonalGaussian.Create,
            [StudentT.TypeName] = StudentT.Create,
            [GaussianMixture.TypeName] = GaussianMixture.Create,
        };

        /// <summary>Registers (or replaces) the factory of a layer type.</summary>
        /// <param name="type">The type name the layer's <see cref="IOnnxExportableLayer.Describe"/> returns.</param>
        /// <param name="create">Builds the layer from its settings.</param>
        public static void Register(string type, Func<JsonObject, FlowLayer> create)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(type);
            ArgumentNullException.ThrowIfNull(create);
            Layers[type] = create;
        }

        /// <summary>Registers (or replaces) the factory of a base distribution type.</summary>
        /// <param name="type">The type name the distribution's <see cref="IOnnxExportableDistribution.Describe"/> returns.</param>
        /// <param name="create">Builds the distribution from its settings.</param>
        public static void RegisterDistribution(string type, Func<JsonObject, BaseDistribution> create)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(type);
            ArgumentNullException.ThrowIfNull(create);
            Distributions[type] = create;
        }

        internal static FlowLayer CreateLayer(ComponentDescription description) =>
            Layers.TryGetValue(description.Type, out var create) ? create(description.Settings)
                : throw new InvalidDataException($"The file uses a layer of type '{description.Type}', which is not registered; " +
                    "call FlowLayerRegistry.Register for it before loading.");

        internal static BaseDistribution CreateDistribution(ComponentDescription description) =>
            Distributions.TryGetValue(description.Type, out var create) ? create(description.Settings)
                : throw new InvalidDataException($"The file uses a base distribution of type '{description.Type}', which is not registered; " +
                    "call FlowLayerRegistry.RegisterDistribution for it before loading.");
    }
}
