namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Which output columns a cursor or row serves, and their getters: input columns pass through, the flow's columns
    /// come from a <see cref="ScoredBlock"/>.
    /// </summary>
    internal sealed class ActiveColumns
    {
        private readonly FlowOutputSchema schema;
        private readonly bool[] active;

        public ActiveColumns(FlowOutputSchema schema, IEnumerable<DataViewSchema.Column> columns)
        {
            this.schema = schema;
            active = new bool[schema.Output.Count];
            foreach (DataViewSchema.Column column in columns) active[column.Index] = true;
            AnyAdded = Enumerable.Range(schema.Input.Count, schema.Output.Count - schema.Input.Count).Any(i => active[i]);
            Latent = schema.LatentIndex >= 0 && active[schema.LatentIndex];
            Sample = schema.SampleIndex >= 0 && active[schema.SampleIndex];
        }

        /// <summary>Whether any column the flow adds is active (else no scoring is needed).</summary>
        public bool AnyAdded { get; }

        /// <summary>Whether the latent column is active.</summary>
        public bool Latent { get; }

        /// <summary>Whether the sample column is active.</summary>
        public bool Sample { get; }

        /// <summary>The active input columns, to open the pass-through cursor with.</summary>
        public DataViewSchema.Column[] InputColumns => schema.Input.Where(c => active[c.Index]).ToArray();

        public bool IsActive(DataViewSchema.Column column) => active[column.Index];

        /// <summary>The getter of an active column; <paramref name="beforeRead"/> runs before each read of an added column.</summary>
        public ValueGetter<TValue> GetGetter<TValue>(DataViewRow input, ScoredBlock? block, DataViewSchema.Column column, Action? beforeRead = null)
        {
            if (!active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active; ask for it when opening the cursor or row.");
            if (!schema.IsAdded(column.Index)) return input.GetGetter<TValue>(schema.Input[column.Index]);
            ValueGetter<TValue> getter = ScoredBlock.Cast<TValue>(block!.MakeGetter(column.Index), column);
            if (beforeRead is null) return getter;
            return (ref TValue value) =>
            {
                beforeRead();
                getter(ref value);
            };
        }
    }
}
