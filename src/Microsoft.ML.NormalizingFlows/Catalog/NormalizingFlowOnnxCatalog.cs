using Microsoft.ML.NormalizingFlows.Onnx;

namespace Microsoft.ML
{
    /// <summary>ONNX export of pipelines that end with a normalizing flow.</summary>
    public static class NormalizingFlowOnnxCatalog
    {
        /// <summary>
        /// Writes one ONNX model of a fitted pipeline that ends with a <see cref="NormalizingFlows.NormalizingFlowTransformer"/>:
        /// ML.NET's own export of the transformers before the flow, with the flow's graph appended. The model takes the
        /// raw input columns and outputs ML.NET's columns (named <c>&lt;column&gt;.output</c>) plus the flow's
        /// log-density (and latent) as <c>&lt;LogDensityColumnName&gt;.output</c>. ML.NET's plain <c>ConvertToOnnx</c>
        /// refuses such pipelines with an error pointing here.
        /// </summary>
        /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
        /// <param name="model">The fitted pipeline; the flow must be its last transformer.</param>
        /// <param name="inputData">Data with the pipeline's input schema (ML.NET uses it to type the graph inputs).</param>
        /// <param name="stream">Receives the ONNX model.</param>
        public static void ConvertToOnnxWithFlow(this ModelOperationsCatalog catalog, ITransformer model, IDataView inputData, Stream stream)
        {
            ArgumentNullException.ThrowIfNull(catalog);
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(inputData);
            ArgumentNullException.ThrowIfNull(stream);
            PipelineOnnx.Convert(catalog, model, inputData, stream);
        }
    }
}
