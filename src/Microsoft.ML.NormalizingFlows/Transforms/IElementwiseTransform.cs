using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Ops;

namespace Microsoft.ML.NormalizingFlows.Transforms
{
    /// <summary>
    /// A monotonic map applied to each feature with its own parameters, as coupling and autoregressive layers use:
    /// the conditioner gives <c>[N, d * P]</c> parameters, laid out as <see cref="FeatureMajor"/> says.
    /// </summary>
    internal interface IElementwiseTransform
    {
        /// <summary>P, the parameters per feature.</summary>
        int ParametersPerFeature { get; }

        /// <summary>Whether the parameters of one feature are contiguous (else parameter p of all features is).</summary>
        bool FeatureMajor { get; }

        /// <summary>The map (or its inverse) of <c>[N, features]</c> values and <c>log|dy/dx|</c> per element, both <c>[N, features]</c>.</summary>
        (V Output, V LogAbsDet) Apply<V>(IFlowOps<V> o, V input, V parameters, int features, bool inverse) where V : class;

        /// <summary>The settings that rebuild the transform.</summary>
        void Describe(JsonObject settings);
    }
}
