using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tabular;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A block of scored rows and the getters of the columns a flow adds. Cursors fill a block of many rows per scoring
    /// call; a single row (the prediction-engine path) fills a block of one. A tabular model's graph reads the rows'
    /// context too and gives their whole log-density; sample draws are made per row from the seed and the row's position.
    /// </summary>
    internal sealed class ScoredBlock
    {
        private readonly FlowRuntime runtime;
        private readonly FlowOutputSchema schema;
        private readonly bool withLatent;
        private readonly bool withSample;
        private readonly float[] rows;
        private readonly float[] context;
        private readonly long[] positions;
        private readonly float[] logDensity;
        private readonly float[] latent;
        private readonly float[] sample;

        public ScoredBlock(FlowRuntime runtime, FlowOutputSchema schema, int capacity, ActiveColumns active)
        {
            this.runtime = runtime;
            this.schema = schema;
            withLatent = active.Latent;
            withSample = active.Sample;
            Capacity = capacity;
            int d = runtime.Dimension;
            rows = new float[capacity * d];
            context = new float[capacity * runtime.ContextWidth];
            positions = new long[capacity];
            logDensity = new float[capacity];
            latent = withLatent ? new float[capacity * d] : Array.Empty<float>();
            sample = withSample ? new float[capacity * d] : Array.Empty<float>();
        }

        public int Capacity { get; }

        /// <summary>How many rows the block holds now.</summary>
        public int Count { get; private set; }

        /// <summary>The row within the block that getters read.</summary>
        public int Current { get; set; }

        /// <summary>Refills the block from <paramref name="source"/>, moving to each next row with <paramref name="moveNext"/> until it returns false.</summary>
        public void Fill(Func<bool> moveNext, RowSource source)
        {
            int d = runtime.Dimension, k = runtime.ContextWidth;
            int count = 0;
            while (count < Capacity && moveNext())
            {
                source.Read(rows.AsSpan(count * d, d), context.AsSpan(count * k, k));
                positions[count] = source.Position;
                count++;
            }
            Score(count);
        }

        /// <summary>Scores one row already read (its flow values, context and position) as the block's only row.</summary>
        public void Fill(ReadOnlySpan<float> values, ReadOnlySpan<float> rowContext, long position)
        {
            values.CopyTo(rows);
            rowContext.CopyTo(context);
            positions[0] = position;
            Score(1);
        }

        private void Score(int count)
        {
            runtime.Score(rows, context, count, logDensity, latent, withLatent);
            if (withSample) Sample(count);
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
                return VectorGetter(latent);
            if (columnIndex == schema.SampleIndex && withSample)
                return VectorGetter(sample);
            throw new InvalidOperationException($"Column {columnIndex} is not a column the flow adds, or it is not active.");
        }

        /// <summary>Checks that the caller asks for the column's own value type.</summary>
        public static ValueGetter<TValue> Cast<TValue>(Delegate getter, DataViewSchema.Column column) =>
            getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' holds {column.Type.RawType.Name} values, not {typeof(TValue).Name}.");

        private ValueGetter<VBuffer<float>> VectorGetter(float[] values)
        {
            int d = runtime.Dimension;
            return (ref VBuffer<float> value) =>
            {
                VBufferEditor<float> editor = VBufferEditor.Create(ref value, d);
                values.AsSpan(Current * d, d).CopyTo(editor.Values);
                value = editor.Commit();
            };
        }

        private void Sample(int count)
        {
            int d = runtime.Dimension;
            var noise = new double[count * d];
            var uniforms = new double[runtime.ReadsUniforms ? count : 0];
            for (int i = 0; i < count; i++)
            {
                Random random = FlowSampler.ForRow(runtime.SampleSeed, positions[i]);
                FlowSampler.Gaussian(random, noise.AsSpan(i * d, d));
                if (uniforms.Length > 0) uniforms[i] = random.NextDouble();
            }
            runtime.Sample(noise, uniforms, context, count, runtime.SampleTemperature, sample);
        }
    }
}
