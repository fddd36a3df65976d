using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// What a fitted flow adds to its layers when it models a table or is conditioned: the codec of the user's columns
    /// (with the categories' table) and the conditional base's parameters. The density graph holds all of it
    /// (<see cref="Microsoft.ML.NormalizingFlows.Onnx.TabularGraphs"/>); sampling maps conditional base draws through the flow.
    /// </summary>
    internal sealed class TabularModel
    {
        public TabularModel(TabularCodec codec, double[][]? baseParameters)
        {
            Codec = codec;
            if (codec.IsConditional)
            {
                // Over the latent: the data slots less any the flow's first layer drops (point masses).
                int k = codec.ContextWidth, d = baseParameters is { Length: 4 } ? baseParameters[1].Length : 0;
                if (baseParameters is null || baseParameters.Length != 4 || d < 1 || d > codec.DataWidth || baseParameters[0].Length != k * d
                    || baseParameters[2].Length != k * d || baseParameters[3].Length != d)
                    throw new InvalidDataException("the conditional base's parameters do not match the model's columns");
            }
            BaseParameters = baseParameters;
        }

        public TabularCodec Codec { get; }

        /// <summary>W (k x d), b (d), V (k x d), e (d) of <see cref="ConditionalNormalizingFlow"/>, or <c>null</c> without a context.</summary>
        public double[][]? BaseParameters { get; }

        public JsonObject ToJson() => new()
        {
            ["codec"] = Codec.ToJson(),
            ["base"] = BaseParameters is null ? null : new JsonArray(BaseParameters.Select(p => (JsonNode?)new JsonArray(p.Select(v => (JsonNode?)v).ToArray())).ToArray()),
        };

        /// <summary>Reads the model back; throws <see cref="InvalidDataException"/> when the JSON is malformed or inconsistent.</summary>
        public static TabularModel FromJson(JsonObject json)
        {
            try
            {
                return new TabularModel(
                    TabularCodec.FromJson(json["codec"]!.AsObject()),
                    json["base"]?.AsArray().Select(p => p!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray());
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException
                or ArgumentException or OverflowException or IndexOutOfRangeException)
            {
                throw new InvalidDataException($"its tabular model is malformed ({e.Message})", e);
            }
        }
    }
}
