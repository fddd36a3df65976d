using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A block of scored rows and the getters of the columns a flow adds. Cursors fill a block of many rows per scoring
    /// call; a single row (the prediction-engine path) fills a block of one.
    /// </summary>
    internal sealed class ScoredBlock
    {
        private readonly FlowScorer scorer;
        private readonly FlowOutputSchema schema;
        private readonly bool withLatent;
        private readonly float[] rows;
        private readonly float[] logDensity;
        private readonly float[] latent;

        public ScoredBlock(FlowScorer scorer, FlowOutputSchema schema, int capacity, bool withLatent)
        {
            this.scorer = scorer;
            this.schema = schema;
            this.withLatent = withLatent;
            Capacity = capacity;
            rows = new float[capacity * scorer.Dimension];
            logDensity = new float[capacity];
            latent = withLatent ? new float[capacity * scorer.Dimension] : Array.Empty<float>();
        }

        public int Capacity { get; }

        /// <summary>How many rows the block holds now.</summary>
        public int Count { get; private set; }

        /// <summary>The row within the block that getters read.</summary>
        public int Current { get; set; }

        /// <summary>Refills the block: <paramref name="readRow"/> writes row i into its span and returns false when rows run out.</summary>
        public void Fill(Func<Span<float>, bool> readRow)
        {
            int d = scorer.Dimension;
            int count = 0;
            while (count < Capacity && readRow(rows.AsSpan(count * d, d))) count++;
            scorer.Score(rows, count, logDensity, latent, withLatent);
            Count = count;
            Current = 0;
        }

        public Delegate MakeGetter(int columnIndex)
        {
            if (columnIndex == schema.LogDensityIndex)
                return (ValueGetter<float>)((ref float value) => value = logDensity[Current]);
            if (columnIndex == schema.ScoreIndex)
                return (ValueGetter<float>)((ref float value) => value = -logDensity[Current]);
            if (columnIndex == schema.LatentIndex && withLatent)
            {
                int d = scorer.Dimension;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    VBufferEditor<float> editor = VBufferEditor.Create(ref value, d);
                    latent.AsSpan(Current * d, d).CopyTo(editor.Values);
                    value = editor.Commit();
                });
            }
            throw new InvalidOperationException($"Column {columnIndex} is not a column the flow adds, or it is not active.");
        }

        /// <summary>Checks that the caller asks for the column's own value type.</summary>
        public static ValueGetter<TValue> Cast<TValue>(Delegate getter, DataViewSchema.Column column) =>
            getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' holds {column.Type.RawType.Name} values, not {typeof(TValue).Name}.");
    }
}
