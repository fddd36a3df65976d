using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// A layer that can be written into an ONNX graph and rebuilt from a flow file. Custom layers implement it (and
    /// register a factory with <see cref="FlowLayerRegistry.Register"/>) to take part in export and saving.
    /// </summary>
    public interface IOnnxExportableLayer
    {
        /// <summary>Writes the data-to-latent direction.</summary>
        /// <param name="graph">The graph being built.</param>
        /// <param name="input">The name of the <c>[N, d]</c> input value.</param>
        /// <param name="stateKeyPrefix">The prefix of this layer's state keys in the flow, for example <c>layers.2.</c>.</param>
        /// <returns>The output value name and the log-determinant value name (<c>[N]</c> or a scalar), or <c>null</c> when it is zero.</returns>
        (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix);

        /// <summary>Writes the latent-to-data direction.</summary>
        /// <param name="graph">The graph being built.</param>
        /// <param name="input">The name of the <c>[N, d]</c> input value.</param>
        /// <param name="stateKeyPrefix">The prefix of this layer's state keys in the flow.</param>
        /// <returns>The output value name and the log-determinant value name, or <c>null</c> when it is zero.</returns>
        (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix);

        /// <summary>What a factory needs to rebuild the layer (its weights come from the file's initializers).</summary>
        /// <returns>The layer's type name and settings.</returns>
        ComponentDescription Describe();
    }

    /// <summary>A base distribution that can be written into an ONNX graph and rebuilt from a flow file.</summary>
    public interface IOnnxExportableDistribution
    {
        /// <summary>Writes <c>log p(z)</c> of <c>[N, d]</c> latent rows as an <c>[N]</c> value.</summary>
        /// <param name="graph">The graph being built.</param>
        /// <param name="latent">The name of the latent value.</param>
        /// <param name="stateKeyPrefix">The prefix of the distribution's state keys in the flow.</param>
        /// <returns>The log-density value name.</returns>
        string ExportLogProb(OnnxGraph graph, string latent, string stateKeyPrefix);

        /// <summary>What a factory needs to rebuild the distribution.</summary>
        /// <returns>The distribution's type name and settings.</returns>
        ComponentDescription Describe();
    }

    /// <summary>A flow component's type name and the settings its factory takes.</summary>
    /// <param name="Type">The name the component's factory is registered under.</param>
    /// <param name="Settings">Constructor settings (JSON).</param>
    public sealed record ComponentDescription(string Type, JsonObject Settings);
}
