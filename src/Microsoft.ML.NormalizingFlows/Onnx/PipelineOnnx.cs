using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.Data;
using Onnx;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// Whole-pipeline ONNX export: ML.NET converts the built-in transformers before the flow, and the flow's graph is
    /// appended to that model, reading the feature column's final value. The result scores the raw input columns.
    /// </summary>
    internal static class PipelineOnnx
    {
        /// <summary>The prefix of the flow's value names inside a combined graph.</summary>
        internal const string Prefix = "NormalizingFlow/";

        // The newest opset ML.NET 5 exports (it refuses 13 and above); the flow's operators mean the same there.
        private const int MLNetOpset = 12;

        public static void Convert(ModelOperationsCatalog catalog, ITransformer model, IDataView inputData, Stream stream)
        {
            List<ITransformer> transformers = Flatten(model).ToList();
            int index = transformers.FindLastIndex(t => t is NormalizingFlowTransformer);
            if (index < 0)
                throw new ArgumentException("The model holds no NormalizingFlowTransformer; use mlContext.Model.ConvertToOnnx for it.", nameof(model));
            if (transformers.Take(index).Any(t => t is NormalizingFlowTransformer))
                throw new NotSupportedException("The model holds more than one NormalizingFlowTransformer; export supports one flow, at the end of the pipeline.");
            if (index != transformers.Count - 1)
                throw new NotSupportedException($"The NormalizingFlowTransformer must be the last transformer to export the pipeline to ONNX; it is followed by " +
                    $"{string.Join(", ", transformers.Skip(index + 1).Select(t => t.GetType().Name))}. Export the pipeline up to the flow, " +
                    "and apply what follows it to the ONNX Runtime outputs.");
            var flow = (NormalizingFlowTransformer)transformers[index];

            ModelProto combined;
            string featureValue;
            string? contextValue = null;
            Tabular.TabularCodec? codec = flow.Tabular?.Codec;
            if (index == 0 && codec is null)
            {
                combined = new ModelProto { IrVersion = FlowOnnx.IrVersion, ProducerName = "Microsoft.ML.NormalizingFlows", Graph = new GraphProto { Name = "normalizing_flow" } };
                combined.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = FlowOnnx.Opset });
                combined.Graph.Input.Add(OnnxGraph.FloatValue(flow.FeatureColumnName, flow.Dimension));
                featureValue = flow.FeatureColumnName;
            }
            else
            {
                // A tabular flow's columns are encoded by built-ins (TabularEncoding), which ML.NET exports with the rest.
                var prefixParts = transformers.Take(index).ToList();
                string[] temporaries = Array.Empty<string>();
                if (codec is not null)
                {
                    (IEstimator<ITransformer> encoding, temporaries) = TabularEncoding.Build(flow.Context, codec);
                    IDataView atFlow = prefixParts.Count == 0 ? inputData : new TransformerChain<ITransformer>(prefixParts.ToArray()).Transform(inputData);
                    prefixParts.AddRange(Flatten(encoding.Fit(atFlow)));
                }
                using var buffer = new MemoryStream();
                catalog.ConvertToOnnx(new TransformerChain<ITransformer>(prefixParts.ToArray()), inputData, MLNetOpset, buffer);
                combined = ModelProto.Parser.ParseFrom(buffer.ToArray());
                featureValue = FinalValueOf(combined.Graph, codec is null ? flow.FeatureColumnName : TabularEncoding.Features);
                if (codec is { ContextWidth: > 0 }) contextValue = FinalValueOf(combined.Graph, TabularEncoding.Context);
                // The encoding's columns are the flow's inputs, not the graph's outputs.
                foreach (string temporary in temporaries)
                    if (combined.Graph.Output.FirstOrDefault(o => o.Name == temporary + ".output") is ValueInfoProto output) combined.Graph.Output.Remove(output);
            }

            string logDensity = flow.LogDensityColumnName + ".output";
            string? latent = flow.LatentColumnName is null ? null : flow.LatentColumnName + ".output";
            string? score = flow.ScoreColumnName is null ? null : flow.ScoreColumnName + ".output";
            RemoveOutputs(combined.Graph, logDensity, latent, score);
            ModelProto flowFile = FlowOnnx.Parse(flow.ExportDensityOnnx(), "the transformer's flow file");
            long opset = combined.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(FlowOnnx.Opset).Max();
            FlowGraphRewriter.AppendTo(combined.Graph, flowFile,
                new FlowGraphRewriter.Names(Prefix, featureValue, logDensity, latent, OneRowPerRun: false, contextValue), flow.Dimension, opset);
            if (score is not null)
            {
                var negate = new NodeProto { Name = Prefix + "score", OpType = "Neg" };
                negate.Input.Add(logDensity);
                negate.Output.Add(score);
                combined.Graph.Node.Add(negate);
                combined.Graph.Output.Add(OnnxGraph.FloatValue(score, 0));
            }
            foreach (StringStringEntryProto entry in flowFile.MetadataProps)
                if (entry.Key != FlowFileMetadata.DigestKey && combined.MetadataProps.All(p => p.Key != entry.Key)) combined.MetadataProps.Add(entry.Clone());
            stream.Write(combined.ToByteArray());
        }

        /// <summary>
        /// ML.NET's ConvertToOnnx cannot see inside a third-party transformer: it would silently make the flow's output
        /// columns inputs of the graph. It calls Transform while converting, so Transform refuses when called from there.
        /// </summary>
        internal static void ThrowIfCalledByMLNetOnnxExport()
        {
            foreach (StackFrame frame in new StackTrace(fNeedFileInfo: false).GetFrames())
            {
                string? type = frame.GetMethod()?.DeclaringType?.FullName;
                if (type is not null && (type.StartsWith("Microsoft.ML.OnnxExportExtensions", StringComparison.Ordinal)
                                         || type.StartsWith("Microsoft.ML.Model.OnnxConverter.", StringComparison.Ordinal)))
                    throw new NotSupportedException("ML.NET's ConvertToOnnx cannot export a NormalizingFlowTransformer (it would produce a graph " +
                        "that takes the flow's output columns as inputs). Use mlContext.Model.ConvertToOnnxWithFlow(model, data, stream), which " +
                        "exports the built-in part of the pipeline with ML.NET and appends the flow's graph.");
            }
        }

        private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
            model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : new[] { model };

        // ML.NET ends each column of its export in a value named "<column>.output".
        private static string FinalValueOf(GraphProto graph, string column)
        {
            string name = column + ".output";
            if (graph.Output.Any(o => o.Name == name)) return name;
            throw new NotSupportedException($"ML.NET's ONNX export of the pipeline before the flow has no value for column '{column}' " +
                $"(outputs: {string.Join(", ", graph.Output.Select(o => o.Name))}).");
        }

        private static void RemoveOutputs(GraphProto graph, params string?[] names)
        {
            foreach (string? name in names)
            {
                if (name is null) continue;
                ValueInfoProto? existing = graph.Output.FirstOrDefault(o => o.Name == name);
                if (existing is null) continue;
                graph.Output.Remove(existing);
                // Rename the value ML.NET computed for the hidden column, so that the flow's output can take the name.
                foreach (NodeProto node in graph.Node)
                    for (int i = 0; i < node.Output.Count; i++)
                        if (node.Output[i] == name) node.Output[i] = name + ".hidden";
            }
        }
    }
}
