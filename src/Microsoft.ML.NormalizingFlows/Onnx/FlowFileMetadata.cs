using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.NormalizingFlows.Onnx
{
    /// <summary>
    /// What a flow file records besides its graph, as ONNX metadata: the format version, the library version, the
    /// architecture (every layer's description, so the file alone rebuilds the flow), the columns and feature names.
    /// </summary>
    public sealed class FlowFileMetadata
    {
        internal const string FormatKey = "normalizing_flows.format";
        internal const string LibraryVersionKey = "normalizing_flows.library_version";
        internal const string ArchitectureKey = "normalizing_flows.architecture";
        internal const string ColumnsKey = "normalizing_flows.columns";
        internal const string TrainingKey = "normalizing_flows.training";
        internal const string TabularKey = "normalizing_flows.tabular";
        internal const string DigestKey = "normalizing_flows.digest";

        // Format 2 adds the tabular model (several columns, categories, a condition); files without one stay format 1,
        // and a reader of format 1 refuses a format-2 file rather than scoring it without its condition.
        internal const int CurrentFormat = 2;

        /// <summary>The file format version: 1 for a plain flow, 2 for one with a tabular model.</summary>
        public int Format => Tabular is null ? 1 : 2;

        /// <summary>The version of the library that wrote the file.</summary>
        public string LibraryVersion { get; init; } = CurrentLibraryVersion;

        /// <summary>The input column the flow reads (for a transformer), or <c>null</c>.</summary>
        public string? FeatureColumnName { get; init; }

        /// <summary>The log-density column the transformer adds, or <c>null</c>.</summary>
        public string? LogDensityColumnName { get; init; }

        /// <summary>The latent column the transformer adds, or <c>null</c>.</summary>
        public string? LatentColumnName { get; init; }

        /// <summary>The anomaly-score column the transformer adds, or <c>null</c>.</summary>
        public string? ScoreColumnName { get; init; }

        /// <summary>The column of independent draws the transformer adds, or <c>null</c>.</summary>
        public string? SampleColumnName { get; init; }

        /// <summary>The temperature of the sample column's draws.</summary>
        public double SampleTemperature { get; init; } = 1;

        /// <summary>The seed of the sample column's draws.</summary>
        public int SampleSeed { get; init; }

        /// <summary>The names of the features (the slot names of the feature column), or <c>null</c> when unknown.</summary>
        public IReadOnlyList<string>? FeatureNames { get; init; }

        /// <summary>The history of the fit that produced the flow, or <c>null</c>.</summary>
        public Training.TrainingHistory? TrainingHistory { get; init; }

        /// <summary>The tabular model (the user's columns, categories, conditional base) as JSON, or <c>null</c> for a plain flow.</summary>
        internal JsonObject? Tabular { get; init; }

        internal static string CurrentLibraryVersion =>
            typeof(FlowFileMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

        internal void WriteTo(ModelProto model, JsonObject architecture)
        {
            Add(model, FormatKey, Format.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Add(model, LibraryVersionKey, LibraryVersion);
            Add(model, ArchitectureKey, architecture.ToJsonString());
            var columns = new JsonObject
            {
                ["feature"] = FeatureColumnName,
                ["logDensity"] = LogDensityColumnName,
                ["latent"] = LatentColumnName,
                ["score"] = ScoreColumnName,
                ["sample"] = SampleColumnName,
                ["sampleTemperature"] = SampleTemperature,
                ["sampleSeed"] = SampleSeed,
                ["featureNames"] = FeatureNames is null ? null : new JsonArray(FeatureNames.Select(n => (JsonNode?)n).ToArray()),
            };
            Add(model, ColumnsKey, columns.ToJsonString());
            if (TrainingHistory is not null) Add(model, TrainingKey, TrainingHistory.ToJson().ToJsonString());
            if (Tabular is not null) Add(model, TabularKey, Tabular.ToJsonString());
            Add(model, DigestKey, Digests(model).ToJsonString());
        }

        // SHA-256 of each part that defines the density: the graph (nodes and initializers, weights included), the
        // architecture that rebuilds the flow, and the tabular model. A tool that edits or optimizes any of them
        // (deleting the rebuild-only initializers, say) changes its digest.
        private static JsonObject Digests(ModelProto model)
        {
            var props = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
            static string Hash(byte[] bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
            var digests = new JsonObject { ["graph"] = Hash(model.Graph.ToByteArray()) };
            foreach ((string part, string key) in new[] { ("architecture", ArchitectureKey), ("tabular", TabularKey) })
                if (props.TryGetValue(key, out string? value)) digests[part] = Hash(System.Text.Encoding.UTF8.GetBytes(value));
            return digests;
        }

        // Refuses a file whose weights hold NaN or an infinity, and a file whose parts do not match the digests written
        // with it (files from versions before the digest have none and are read as they are).
        private static void Verify(ModelProto model, IReadOnlyDictionary<string, string> props)
        {
            foreach (TensorProto initializer in model.Graph.Initializer)
            {
                bool state = !initializer.Name.StartsWith("const_", StringComparison.Ordinal); // graph constants may hold -inf (masks)
                int bad = (TensorProto.Types.DataType)initializer.DataType switch
                {
                    TensorProto.Types.DataType.Float => Count(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(initializer.RawData.Span).ToArray()
                        .Concat(initializer.FloatData).Select(v => (double)v), state),
                    TensorProto.Types.DataType.Double => Count(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(initializer.RawData.Span).ToArray()
                        .Concat(initializer.DoubleData), state),
                    _ => 0,
                };
                if (bad > 0)
                    throw new InvalidDataException($"its weights part holds {bad} non-finite value{(bad == 1 ? "" : "s")} in initializer '{initializer.Name}' " +
                        "(NaN or infinity), so every row would score NaN; refit the flow, or load an earlier copy of the file");
            }
            if (props.TryGetValue(DigestKey, out string? written))
            {
                JsonObject expected = JsonNode.Parse(written)!.AsObject(), actual = Digests(model);
                foreach ((string part, JsonNode? value) in expected)
                    if (actual[part]?.GetValue<string>() != value?.GetValue<string>())
                        throw new InvalidDataException($"its {part} part was changed after the file was written (its digest does not match); " +
                            "a flow file must be used as written: tools that edit or optimize ONNX graphs break it, so export the density graph for them " +
                            "(ExportDensityOnnx) and keep the flow file for loading");
            }
        }

        private static int Count(IEnumerable<double> values, bool state) => values.Count(v => double.IsNaN(v) || state && double.IsInfinity(v));

        /// <summary>Reads the metadata and the architecture; throws <see cref="InvalidDataException"/> when either is missing or malformed.</summary>
        internal static (FlowFileMetadata Metadata, JsonObject Architecture) ReadFrom(ModelProto model)
        {
            var props = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
            if (!props.TryGetValue(FormatKey, out string? format) || !props.TryGetValue(ArchitectureKey, out string? architecture))
                throw new InvalidDataException("it is an ONNX model but not a normalizing-flow file (no normalizing_flows metadata)");
            if (!int.TryParse(format, out int formatVersion) || formatVersion < 1 || formatVersion > CurrentFormat)
                throw new InvalidDataException($"its flow format version '{format}' is not one this library reads (1 to {CurrentFormat}); " +
                    "load it with the library version that wrote it or a newer one");
            Verify(model, props);
            try
            {
                JsonObject columns = props.TryGetValue(ColumnsKey, out string? c) ? JsonNode.Parse(c)!.AsObject() : new JsonObject();
                var metadata = new FlowFileMetadata
                {
                    LibraryVersion = props.GetValueOrDefault(LibraryVersionKey, "unknown"),
                    FeatureColumnName = columns["feature"]?.GetValue<string>(),
                    LogDensityColumnName = columns["logDensity"]?.GetValue<string>(),
                    LatentColumnName = columns["latent"]?.GetValue<string>(),
                    ScoreColumnName = columns["score"]?.GetValue<string>(),
                    SampleColumnName = columns["sample"]?.GetValue<string>(),
                    SampleTemperature = columns["sampleTemperature"]?.GetValue<double>() ?? 1,
                    SampleSeed = columns["sampleSeed"]?.GetValue<int>() ?? 0,
                    Tabular = props.TryGetValue(TabularKey, out string? tabular) ? JsonNode.Parse(tabular)!.AsObject() : null,
                    FeatureNames = columns["featureNames"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray(),
                    TrainingHistory = props.TryGetValue(TrainingKey, out string? t) ? Training.TrainingHistory.FromJson(JsonNode.Parse(t)!.AsObject()) : null,
                };
                if ((formatVersion == 2) != (metadata.Tabular is not null))
                    throw new InvalidDataException($"its flow format version {formatVersion} does not match its content ({(metadata.Tabular is null ? "no" : "a")} tabular model)");
                return (metadata, JsonNode.Parse(architecture)!.AsObject());
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                throw new InvalidDataException($"its normalizing_flows metadata is malformed ({e.Message})", e);
            }
        }

        private static void Add(ModelProto model, string key, string value) =>
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }
}
