using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tabular;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    public sealed partial class NormalizingFlowEstimator
    {
        // Streams the rows: one pass for the standardization (Welford), then every epoch through the shuffle buffer.
        private NormalizingFlowTransformer FitStreaming(IDataView input, TabularCodec? codec, NormalizingFlowTransformer? start, IChannel channel)
        {
            int d = codec?.DataWidth ?? FeatureColumn.Find(input.Schema, options.FeatureColumnName).Size;
            int k = codec?.ContextWidth ?? 0;
            DataViewSchema.Column[] columns = codec is null
                ? new[] { input.Schema[options.FeatureColumnName] }
                : codec.Columns.Select(c => TabularSchema.Find(input.Schema, c)).ToArray();
            var batches = new StreamingBatches(input, columns, (row, validation) => Reader(row, codec, d, validation), d + k,
                options.ShuffleBufferSize, options.Seed, options.ValidationFraction, ElementType);

            float[] integerMask = codec?.IntegerMask() ?? new float[d];
            var mean = new double[d];
            var squares = new double[d];
            long n = 0;
            batches.Count(row =>
            {
                n++;
                for (int j = 0; j < d; j++)
                {
                    double delta = row[j] - mean[j];
                    mean[j] += delta / n;
                    squares[j] += delta * (row[j] - mean[j]);
                }
            });
            long validationRows = batches.ValidationRows;
            if (n < 2 || options.ValidationFraction > 0 && validationRows < 1)
                throw new InvalidOperationException($"The input has {n} usable training rows and {validationRows} validation rows; a fit needs at least 2 " +
                    "training rows and, with validation, 1 validation row. Provide more rows or set ValidationFraction = 0.");
            // Streamed rows are not at hand to compare slot by slot: only constant slots are found.
            SlotStatistics statistics = Standardize(mean, squares, n, integerMask, codec?.DataSlotNames(), channel, identical: null);
            channel.Info(MessageSensitivity.None, $"Streaming a flow of dimension {d} over {n} rows ({validationRows} for validation) " +
                $"through a shuffle buffer of {options.ShuffleBufferSize} rows.");

            // The first shuffle buffer (seeded) starts the conditional base's means and a mixture base's components.
            using var generator = new TorchSharp.torch.Generator().manual_seed(options.Seed);
            using Tensor initRows = batches.Epoch(0, Math.Min(options.ShuffleBufferSize, InitializationRows), generator).First();
            return Train(input, codec, start, d, k, statistics, integerMask, batches, initRows, channel, _ => transformer => HeldOut(transformer, input));
        }

        // The log-densities of the validation rows (at most ShuffleBufferSize of them), as the transformer scores them.
        private float[] HeldOut(NormalizingFlowTransformer transformer, IDataView input)
        {
            if (options.ValidationFraction == 0) return Array.Empty<float>();
            var result = new List<float>();
            IDataView scored = transformer.Transform(input);
            DataViewSchema.Column column = scored.Schema[options.LogDensityColumnName];
            using DataViewRowCursor cursor = scored.GetRowCursor(new[] { column });
            ValueGetter<float> getter = cursor.GetGetter<float>(column);
            float value = 0;
            while (cursor.MoveNext() && result.Count < options.ShuffleBufferSize)
            {
                if (!StreamingBatches.IsValidation(options.Seed, cursor.Position, options.ValidationFraction)) continue;
                getter(ref value);
                if (float.IsFinite(value)) result.Add(value);
            }
            return result.ToArray();
        }

        // Reads one row for training (integers as they are) or validation (integers at the middle of their unit cell).
        private ReadTrainingRow Reader(DataViewRow row, TabularCodec? codec, int d, bool validation)
        {
            if (codec is not null)
            {
                RowEncoder encoder = codec.Bind(row, raw: false);
                float[] integers = codec.IntegerMask();
                return destination =>
                {
                    if (encoder.Encode(destination[..d], destination[d..]))
                    {
                        if (validation)
                            for (int j = 0; j < d; j++) destination[j] += 0.5f * integers[j];
                        return true;
                    }
                    return options.InvalidRows == InvalidRowHandling.Skip ? false
                        : throw FeatureColumn.InvalidValue(encoder.Position, encoder.InvalidColumn!, encoder.InvalidValue, encoder.InvalidSlot);
                };
            }
            ValueGetter<VBuffer<float>> getter = row.GetGetter<VBuffer<float>>(row.Schema[options.FeatureColumnName]);
            VBuffer<float> buffer = default;
            return destination =>
            {
                getter(ref buffer);
                FeatureColumn.CopyRow(buffer, destination, options.FeatureColumnName, row.Position);
                int bad = FeatureColumn.FirstInvalid(destination);
                if (bad < 0) return true;
                return options.InvalidRows == InvalidRowHandling.Skip ? false
                    : throw FeatureColumn.InvalidValue(row.Position, options.FeatureColumnName, destination[bad], bad);
            };
        }

        private static long CountRows(IDataView input)
        {
            long count = 0;
            using DataViewRowCursor cursor = input.GetRowCursor(Array.Empty<DataViewSchema.Column>());
            while (cursor.MoveNext()) count++;
            return count;
        }
    }
}
