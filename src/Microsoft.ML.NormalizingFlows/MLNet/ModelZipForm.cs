using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.Transforms;
using Onnx;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// How a fitted flow lives in an ML.NET model zip. ML.NET's model context is closed to other assemblies, so the
    /// transformer saves, in its place, a chain of saveable built-ins that produces the same columns: for a tabular flow
    /// the encoding of its columns (<see cref="TabularEncoding"/>), the flow's ONNX graph in <c>ApplyOnnxModel</c> (the zip
    /// keeps its bytes), a custom mapping that turns the <c>[1]</c>-shaped log-density into a scalar column, then copies
    /// to the user's column names and drops the temporaries.
    /// </summary>
    internal static class ModelZipForm
    {
        internal const string LogDensityColumn = "NormalizingFlow_LogDensityColumn";
        internal const string LogDensityScalar = "NormalizingFlow_LogDensity";
        internal const string LatentColumn = "NormalizingFlow_Latent";

        public static ICanSaveModel Build(NormalizingFlowTransformer transformer)
        {
            // The sample column draws with TorchSharp from per-row seeded noise, which no saveable built-in reproduces:
            // refuse, rather than save a model that loads without the column.
            if (transformer.SampleColumnName is string sample)
                throw new InvalidOperationException($"The flow adds a sample column ('{sample}'), which an ML.NET model zip cannot hold (its built-in form " +
                    "scores log-densities and latents only). Save the flow file instead (transformer.SaveTo, then NormalizingFlowTransformer.Load keeps " +
                    "the sample column), or fit without SampleColumnName to save the pipeline as a zip.");
            MLContext ml = transformer.Context;
            Tabular.TabularCodec? codec = transformer.Tabular?.Codec;
            // A tabular flow's columns are first encoded by built-ins into the graph's features and context.
            (IEstimator<ITransformer>? encoding, string[] temporaries) = codec is null ? (null, Array.Empty<string>()) : TabularEncoding.Build(ml, codec);
            string features = codec is null ? transformer.FeatureColumnName : TabularEncoding.Features;
            string? context = codec is { ContextWidth: > 0 } ? TabularEncoding.Context : null;

            ModelProto model = FlowOnnx.Parse(transformer.ExportDensityOnnx(), "the transformer's flow file");
            var graph = new GraphProto { Name = "normalizing_flow" };
            graph.Input.Add(OnnxGraph.FloatValue(features, transformer.Dimension));
            if (context is not null) graph.Input.Add(OnnxGraph.FloatValue(context, codec!.ContextWidth));
            string? latent = transformer.LatentColumnName is null ? null : LatentColumn;
            FlowGraphRewriter.AppendTo(graph, model, new FlowGraphRewriter.Names("", features, LogDensityColumn, latent, OneRowPerRun: true, context), transformer.Dimension);
            model.Graph = graph;

            string[] onnxOutputs = latent is null ? new[] { LogDensityColumn } : new[] { LogDensityColumn, latent };
            // The zip does not record ONNX Runtime's device; building the saved form on the CPU also lets a transformer
            // configured for a GPU be saved on a machine without one.
            IEstimator<ITransformer> chain = ml.Transforms.ApplyOnnxModel(onnxOutputs, context is null ? new[] { features } : new[] { features, context },
                    new MemoryStream(model.ToByteArray()))
                .Append(ml.Transforms.CustomMapping(new LogDensityFromColumnFactory().GetMapping(), LogDensityFromColumnFactory.ContractName))
                .Append(ml.Transforms.CopyColumns(transformer.LogDensityColumnName, LogDensityScalar));
            if (encoding is not null) chain = encoding.Append(chain);
            if (transformer.LatentColumnName is not null)
                chain = chain.Append(ml.Transforms.CopyColumns(transformer.LatentColumnName, LatentColumn));
            if (transformer.ScoreColumnName is not null)
                chain = chain.Append(ml.Transforms.Expression(transformer.ScoreColumnName, "x => -x", LogDensityScalar));
            chain = chain.Append(ml.Transforms.DropColumns((latent is null
                ? new[] { LogDensityColumn, LogDensityScalar }
                : new[] { LogDensityColumn, LogDensityScalar, LatentColumn }).Concat(temporaries).ToArray()));
            return chain.Fit(codec is null ? EmptyInput(ml, transformer.FeatureColumnName, transformer.Dimension) : TabularEncoding.EmptyInput(codec));
        }

        private static IDataView EmptyInput(MLContext ml, string column, int dimension)
        {
            SchemaDefinition definition = SchemaDefinition.Create(typeof(FeatureVector));
            definition[0].ColumnName = column;
            definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
            return ml.Data.LoadFromEnumerable(new List<FeatureVector>(), definition);
        }

        private sealed class FeatureVector
        {
            public float[] Features = Array.Empty<float>();
        }
    }

    /// <summary>The ONNX log-density column (one value per row) of a saved flow, as ML.NET reads it.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public sealed class LogDensityColumnRow
    {
        /// <summary>The one-element log-density vector.</summary>
        [ColumnName(ModelZipForm.LogDensityColumn)]
        [VectorType(1)]
        public float[] Values = Array.Empty<float>();
    }

    /// <summary>The scalar log-density of a saved flow.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public sealed class LogDensityScalarRow
    {
        /// <summary>The log-density.</summary>
        [ColumnName(ModelZipForm.LogDensityScalar)]
        public float Value;
    }

    /// <summary>
    /// The stateless mapping a saved flow uses to turn its one-element log-density vector into a scalar column. ML.NET
    /// finds it by its contract name when a model zip is loaded.
    /// </summary>
    [CustomMappingFactoryAttribute(ContractName)]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public sealed class LogDensityFromColumnFactory : CustomMappingFactory<LogDensityColumnRow, LogDensityScalarRow>
    {
        /// <summary>The contract name recorded in model zips.</summary>
        public const string ContractName = "Microsoft.ML.NormalizingFlows.LogDensityFromColumn";

        /// <inheritdoc />
        public override Action<LogDensityColumnRow, LogDensityScalarRow> GetMapping() => (column, scalar) => scalar.Value = column.Values[0];
    }
}
