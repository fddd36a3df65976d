using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// What a fitted flow adds to its density graph when it models a table or is conditioned: the codec of the user's
    /// columns and the conditional base's parameters. Scoring turns the graph's log-density (standard-normal base) into
    /// <c>log p(x | c) + log P(categories)</c> from the graph's latent; sampling maps conditional base draws through the flow.
    /// </summary>
    internal sealed class TabularModel
    {
        public TabularModel(TabularCodec codec, double[][]? baseParameters)
        {
            Codec = codec;
            if (codec.IsConditional)
            {
                int d = codec.DataWidth, k = codec.ContextWidth;
                if (baseParameters is null || baseParameters.Length != 4 || baseParameters[0].Length != k * d || baseParameters[1].Length != d
                    || baseParameters[2].Length != k * d || baseParameters[3].Length != d)
                    throw new InvalidDataException("the conditional base's parameters do not match the model's columns");
            }
            BaseParameters = baseParameters;
        }

        public TabularCodec Codec { get; }

        /// <summary>W (k x d), b (d), V (k x d), e (d) of <see cref="ConditionalNormalizingFlow"/>, or <c>null</c> without a context.</summary>
        public double[][]? BaseParameters { get; }

        /// <summary>The latent mean and log-scale for one context row (zeros without a context).</summary>
        public void LatentGaussian(ReadOnlySpan<float> context, Span<double> mean, Span<double> logScale)
        {
            mean.Clear();
            logScale.Clear();
            if (BaseParameters is null) return;
            int d = mean.Length;
            double[] w = BaseParameters[0], b = BaseParameters[1], v = BaseParameters[2], e = BaseParameters[3];
            for (int j = 0; j < d; j++)
            {
                double m = b[j], s = e[j];
                for (int c = 0; c < context.Length; c++)
                {
                    if (context[c] == 0) continue;
                    m += context[c] * w[c * d + j];
                    s += context[c] * v[c * d + j];
                }
                mean[j] = m;
                logScale[j] = ConditionalNormalizingFlow.LogScaleBound * Math.Tanh(s / ConditionalNormalizingFlow.LogScaleBound);
            }
        }

        /// <summary>
        /// <c>log N(z; mu(c), exp(s(c))) - log N(z; 0, I)</c>: what turns the density graph's log-density into the
        /// conditional one.
        /// </summary>
        public double BaseCorrection(ReadOnlySpan<float> latent, ReadOnlySpan<float> context, Span<double> mean, Span<double> logScale)
        {
            if (BaseParameters is null) return 0;
            LatentGaussian(context, mean, logScale);
            double correction = 0;
            for (int j = 0; j < latent.Length; j++)
            {
                double standardized = (latent[j] - mean[j]) * Math.Exp(-logScale[j]);
                correction += -0.5 * standardized * standardized - logScale[j] + 0.5 * latent[j] * latent[j];
            }
            return correction;
        }

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
