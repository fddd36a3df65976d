using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// ONNX export of flows (opset 17, IR version 8, float32 unless a float64 graph is asked for, a dynamic batch axis
    /// "N") and flow files: a density graph whose metadata and initializers rebuild the flow. A flow file with a tabular
    /// model holds the graph of <see cref="TabularGraphs"/>.
    /// </summary>
    public static class FlowOnnx
    {
        /// <summary>The ONNX opset of exported graphs.</summary>
        public const int Opset = 17;

        /// <summary>The ONNX IR version of exported graphs.</summary>
        public const int IrVersion = 8;

        /// <summary>Default value names of the density graph: its input.</summary>
        public const string FeaturesName = "features";

        /// <summary>Default value names of the density and sampling graphs: the log-density output.</summary>
        public const string LogDensityName = "log_density";

        /// <summary>Default value names of the density graph: the latent output.</summary>
        public const string LatentName = "latent";

        /// <summary>The second input of a conditional flow's density and sampling graphs: the context <c>[N, c]</c> of each row.</summary>
        public const string ContextName = "context";

        /// <summary>Default value names of the sampling graph: its input.</summary>
        public const string NoiseName = "noise";

        /// <summary>Default value names of the sampling graph: the samples output.</summary>
        public const string SamplesName = "samples";

        /// <summary>
        /// The density graph: input <c>features [N, d]</c> in the data's units; outputs <c>log_density [N]</c> and
        /// <c>latent [N, d]</c>. It holds every state tensor of the flow and, in its metadata, the architecture, so it
        /// is also the flow's file (see <see cref="LoadFlow(byte[], string)"/>).
        /// </summary>
        /// <param name="flow">The flow; every layer and the base distribution must be ONNX-exportable.</param>
        /// <param name="metadata">Column names and feature names to record, or <c>null</c>.</param>
        /// <returns>The serialized ONNX model.</returns>
        public static byte[] ExportDensity(NormalizingFlow flow, FlowFileMetadata? metadata = null) =>
            DensityModel(flow, metadata ?? new FlowFileMetadata()).ToByteArray();

        /// <summary>The density graph computing in float64 (inputs, outputs, weights and arithmetic), for a float64 flow.</summary>
        internal static byte[] ExportDensityFloat64(NormalizingFlow flow, FlowFileMetadata? metadata = null) =>
            DensityModel(flow, metadata ?? new FlowFileMetadata(), float64: true).ToByteArray();

        /// <summary>
        /// The sampling graph: input <c>noise [N, d]</c>, draws from the flow's base distribution (standard-normal draws
        /// for the default base; draw them yourself, so results are reproducible);
        /// outputs <c>samples [N, d]</c> in the data's units and their <c>log_density [N]</c>.
        /// </summary>
        /// <param name="flow">The flow.</param>
        /// <returns>The serialized ONNX model.</returns>
        public static byte[] ExportSampling(NormalizingFlow flow) => SamplingModel(flow, null);

        /// <summary>
        /// The sampling graph of a flow over a table or with a condition (see <see cref="TabularGraphs"/>): inputs
        /// <c>noise [N, d]</c> and, with a context, <c>context [N, k]</c>; outputs <c>samples [N, d]</c> and <c>log_density [N]</c>.
        /// </summary>
        internal static byte[] ExportSampling(NormalizingFlow flow, Tabular.TabularModel model) => SamplingModel(flow, model);

        private static byte[] SamplingModel(NormalizingFlow flow, Tabular.TabularModel? model)
        {
            ArgumentNullException.ThrowIfNull(flow);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var graph = new OnnxGraph(flow);
            string samples, logDensity;
            if (model is null)
            {
                graph.AddInput(NoiseName, flow.LatentDimension);
                (samples, logDensity) = FlowGraphs.Sampling(flow, graph, NoiseName);
            }
            else
            {
                (samples, logDensity) = TabularGraphs.Sampling(flow, model, graph);
            }
            graph.Rename(samples, SamplesName);
            graph.Rename(logDensity, LogDensityName);
            graph.AddOutput(SamplesName, flow.Dimension);
            graph.AddOutput(LogDensityName, 0);
            return Model(graph).ToByteArray();
        }

        /// <summary>Rebuilds a flow from a flow file's bytes (see <see cref="ExportDensity"/>).</summary>
        /// <param name="model">The file's bytes.</param>
        /// <param name="source">The file's name, for error messages.</param>
        /// <returns>The flow (float32 or float64 as it was saved; weights as stored, in float32) and the file's metadata.</returns>
        /// <exception cref="InvalidDataException">The bytes are not a flow file (truncated, corrupt, foreign), naming <paramref name="source"/>.</exception>
        public static (NormalizingFlow Flow, FlowFileMetadata Metadata) LoadFlow(byte[] model, string source)
        {
            (ModelProto proto, FlowFileMetadata metadata, JsonObject architecture) = ReadFile(model, source);
            return (Guarded(source, () => Rebuild(architecture, proto.Graph.Initializer)), metadata);
        }

        /// <summary>The metadata and the dimension of a flow file, checked without building the flow (no TorchSharp).</summary>
        internal static (FlowFileMetadata Metadata, int Dimension) ReadSummary(byte[] model, string source)
        {
            (ModelProto proto, FlowFileMetadata metadata, JsonObject architecture) = ReadFile(model, source);
            int dimension = Guarded(source, () =>
            {
                int d = architecture["dimension"]!.GetValue<int>();
                ValueInfoProto? input = proto.Graph.Input.FirstOrDefault(i => i.Name == FeaturesName);
                if (input is null || input.Type?.TensorType?.Shape?.Dim.Count != 2 || input.Type.TensorType.Shape.Dim[1].DimValue != d)
                    throw new InvalidDataException($"its graph has no input '{FeaturesName}' of shape [N, {d}]");
                foreach (string output in new[] { LogDensityName, LatentName })
                    if (proto.Graph.Output.All(o => o.Name != output)) throw new InvalidDataException($"its graph has no output '{output}'");
                Tabular.TabularCodec? codec = metadata.Tabular is null ? null : Tabular.TabularModel.FromJson(metadata.Tabular).Codec;
                if (codec is not null && codec.DataWidth != d)
                    throw new InvalidDataException($"its tabular model's columns do not give the flow's {d} values");
                if (codec is not null && codec.ContextWidth > 0)
                {
                    ValueInfoProto? context = proto.Graph.Input.FirstOrDefault(i => i.Name == ContextName);
                    if (context is null || context.Type?.TensorType?.Shape?.Dim.Count != 2 || context.Type.TensorType.Shape.Dim[1].DimValue != codec.ContextWidth)
                        throw new InvalidDataException($"its graph has no input '{ContextName}' of shape [N, {codec.ContextWidth}] for its tabular model's context");
                }
                return d;
            });
            return (metadata, dimension);
        }

        private static (ModelProto Proto, FlowFileMetadata Metadata, JsonObject Architecture) ReadFile(byte[] model, string source)
        {
            ArgumentNullException.ThrowIfNull(model);
            ModelProto proto = Parse(model, source);
            (FlowFileMetadata metadata, JsonObject architecture) = Guarded(source, () => FlowFileMetadata.ReadFrom(proto));
            return (proto, metadata, architecture);
        }

        private static T Guarded<T>(string source, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or NullReferenceException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                throw new InvalidDataException($"'{source}' is not a usable normalizing-flow file: {e.Message}.", e);
            }
        }

        /// <summary>Parses ONNX bytes, naming the source when they are not an ONNX model.</summary>
        internal static ModelProto Parse(byte[] model, string source)
        {
            ModelProto proto;
            try
            {
                proto = ModelProto.Parser.ParseFrom(model);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new InvalidDataException($"'{source}' is not an ONNX model (truncated or corrupt: {e.Message}).", e);
            }
            if (proto.Graph is null || proto.Graph.Node.Count == 0)
                throw new InvalidDataException($"'{source}' is not an ONNX model with a graph (empty, truncated or another kind of file).");
            return proto;
        }

        private static ModelProto DensityModel(NormalizingFlow flow, FlowFileMetadata metadata, bool float64 = false)
        {
            ArgumentNullException.ThrowIfNull(flow);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var graph = new OnnxGraph(flow, float64);
            string logDensity, latent;
            if (metadata.Tabular is null)
            {
                graph.AddInput(FeaturesName, flow.Dimension);
                (logDensity, latent) = FlowGraphs.Density(flow, graph, FeaturesName);
            }
            else
            {
                (logDensity, latent) = TabularGraphs.Density(flow, Tabular.TabularModel.FromJson(metadata.Tabular), graph);
            }
            graph.Rename(logDensity, LogDensityName);
            graph.AddOutput(LogDensityName, 0);
            graph.Rename(latent, LatentName);
            graph.AddOutput(LatentName, flow.Dimension);
            graph.AddRemainingState();
            ModelProto model = Model(graph);
            metadata.WriteTo(model, Describe(flow));
            return model;
        }

        internal static ModelProto Model(OnnxGraph graph)
        {
            var model = new ModelProto
            {
                IrVersion = IrVersion,
                ProducerName = "Microsoft.ML.NormalizingFlows",
                ProducerVersion = FlowFileMetadata.CurrentLibraryVersion,
                Graph = graph.Proto,
            };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return model;
        }

        internal static JsonObject Describe(NormalizingFlow flow) => new()
        {
            ["dimension"] = flow.Dimension,
            ["elementType"] = flow.ElementType.ToString(),
            ["base"] = ToJson(FlowGraphs.Exportable(flow.BaseDistribution).Describe()),
            ["layers"] = new JsonArray(flow.Layers.Select((layer, i) => (JsonNode)ToJson(FlowGraphs.Exportable(layer, i).Describe())).ToArray()),
        };

        private static JsonObject ToJson(ComponentDescription d) => new() { ["type"] = d.Type, ["settings"] = d.Settings.DeepClone() };

        private static ComponentDescription FromJson(JsonNode? node) =>
            new(node!["type"]!.GetValue<string>(), node["settings"]!.AsObject());

        /// <summary>Builds the flow an architecture describes, then copies the stored state into it (when given).</summary>
        internal static NormalizingFlow Rebuild(JsonObject architecture, IEnumerable<TensorProto>? initializers)
        {
            var elementType = Enum.Parse<ScalarType>(architecture["elementType"]!.GetValue<string>());
            var layers = architecture["layers"]!.AsArray().Select(n => FlowLayerRegistry.CreateLayer(FromJson(n))).ToList();
            var flow = new NormalizingFlow(FlowLayerRegistry.CreateDistribution(FromJson(architecture["base"])), layers);
            try
            {
                // Converted first, so that a float64 flow's stored float64 state is copied at full precision.
                if (elementType != ScalarType.Float32) flow.to(elementType);
                var stored = (initializers ?? Array.Empty<TensorProto>()).ToDictionary(t => t.Name);
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                foreach ((string key, Tensor target) in initializers is null ? Enumerable.Empty<KeyValuePair<string, Tensor>>() : flow.state_dict())
                {
                    if (!stored.TryGetValue(key, out TensorProto? proto))
                        throw new InvalidDataException($"the file lacks the flow's state tensor '{key}'");
                    StateTensor value = StateTensor.FromProto(proto);
                    if (!value.Shape.SequenceEqual(target.shape))
                        throw new InvalidDataException($"state tensor '{key}' has shape [{string.Join(", ", value.Shape)}] but the architecture needs [{string.Join(", ", target.shape)}]");
                    target.copy_(value.ToTensor(target.is_floating_point() ? target.dtype : ScalarType.Float32));
                }
                flow.eval();
                return flow;
            }
            catch
            {
                flow.Dispose();
                throw;
            }
        }
    }
}
