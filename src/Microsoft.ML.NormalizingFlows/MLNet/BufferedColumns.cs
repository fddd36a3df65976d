using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// The input columns a flow's cursor passes through, held for a block of rows: the cursor reads a block ahead on its
    /// one input cursor to score it, so each row's pass-through values (and its id) are copied when the row is read and
    /// served from the copy when the cursor reaches it. Vectors are deep-copied: a getter may reuse its buffers.
    /// </summary>
    internal sealed class BufferedColumns
    {
        private readonly Dictionary<int, ColumnBuffer> columns = new();
        private readonly ValueGetter<DataViewRowId> idGetter;
        private readonly DataViewRowId[] ids;

        public BufferedColumns(DataViewRow input, IEnumerable<DataViewSchema.Column> passThrough, int capacity)
        {
            foreach (DataViewSchema.Column column in passThrough)
            {
                Type type = column.Type is VectorDataViewType vector
                    ? typeof(VectorBuffer<>).MakeGenericType(vector.ItemType.RawType)
                    : typeof(ScalarBuffer<>).MakeGenericType(column.Type.RawType);
                columns[column.Index] = (ColumnBuffer)Activator.CreateInstance(type, input, column, capacity)!;
            }
            idGetter = input.GetIdGetter();
            ids = new DataViewRowId[capacity];
        }

        /// <summary>Copies the input's current row into slot <paramref name="slot"/>.</summary>
        public void Capture(int slot)
        {
            idGetter(ref ids[slot]);
            foreach (ColumnBuffer column in columns.Values) column.Capture(slot);
        }

        public DataViewRowId Id(int slot) => ids[slot];

        /// <summary>A getter of the input column at <paramref name="index"/> that reads slot <paramref name="current"/>().</summary>
        public ValueGetter<TValue> Getter<TValue>(int index, DataViewSchema.Column column, Func<int> current)
        {
            Delegate getter = columns[index].Getter(current);
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' holds {column.Type.RawType.Name} values, not {typeof(TValue).Name}.");
        }

        private abstract class ColumnBuffer
        {
            public abstract void Capture(int slot);

            public abstract Delegate Getter(Func<int> current);
        }

        private sealed class ScalarBuffer<T> : ColumnBuffer
        {
            private readonly ValueGetter<T> source;
            private readonly T[] values;

            public ScalarBuffer(DataViewRow input, DataViewSchema.Column column, int capacity)
            {
                source = input.GetGetter<T>(column);
                values = new T[capacity];
            }

            public override void Capture(int slot) => source(ref values[slot]);

            public override Delegate Getter(Func<int> current) => (ValueGetter<T>)((ref T value) => value = values[current()]);
        }

        private sealed class VectorBuffer<T> : ColumnBuffer
        {
            private readonly ValueGetter<VBuffer<T>> source;
            private readonly VBuffer<T>[] values;
            private VBuffer<T> scratch;

            public VectorBuffer(DataViewRow input, DataViewSchema.Column column, int capacity)
            {
                source = input.GetGetter<VBuffer<T>>(column);
                values = new VBuffer<T>[capacity];
            }

            public override void Capture(int slot)
            {
                source(ref scratch);
                scratch.CopyTo(ref values[slot]);
            }

            public override Delegate Getter(Func<int> current) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) => values[current()].CopyTo(ref value));
        }
    }
}
