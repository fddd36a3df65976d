using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// The ML.NET item types a flow reads and writes back, by name: numbers (Single, Double and the integer types), keys,
    /// text and booleans. Each has a reader (row to doubles or to a category's text) and a writer (doubles or text to a
    /// getter of the column's own type).
    /// </summary>
    internal static class ColumnTypes
    {
        private static readonly string[] Numbers = { "Single", "Double", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64" };
        private static readonly string[] Keys = { "Key.Byte", "Key.UInt16", "Key.UInt32", "Key.UInt64" };

        /// <summary>The item type's name, or <c>null</c> when a flow cannot read it.</summary>
        public static string? NameOf(DataViewType type)
        {
            DataViewType item = type is VectorDataViewType vector ? vector.ItemType : type;
            return item switch
            {
                KeyDataViewType key => "Key." + key.RawType.Name,
                TextDataViewType => "Text",
                BooleanDataViewType => "Boolean",
                NumberDataViewType number when Numbers.Contains(number.RawType.Name) => number.RawType.Name,
                _ => null,
            };
        }

        public static bool IsNumber(string name) => Numbers.Contains(name);

        public static bool IsWholeNumber(string name) => IsNumber(name) && name is not ("Single" or "Double");

        public static bool IsKey(string name) => name.StartsWith("Key.", StringComparison.Ordinal);

        /// <summary>Returns <paramref name="name"/> when it is a known item type name; throws <see cref="InvalidDataException"/> otherwise.</summary>
        public static string Check(string name) =>
            Numbers.Contains(name) || Keys.Contains(name) || name is "Text" or "Boolean" ? name : throw new InvalidDataException($"unknown column item type '{name}'");

        /// <summary>The ML.NET type of a column described by <paramref name="column"/>.</summary>
        public static DataViewType TypeOf(TabularColumn column)
        {
            PrimitiveDataViewType item = column.ItemType switch
            {
                "Text" => TextDataViewType.Instance,
                "Boolean" => BooleanDataViewType.Instance,
                string key when IsKey(key) => new KeyDataViewType(RawType(key), column.KeyCount),
                "Single" => NumberDataViewType.Single,
                "Double" => NumberDataViewType.Double,
                "SByte" => NumberDataViewType.SByte,
                "Byte" => NumberDataViewType.Byte,
                "Int16" => NumberDataViewType.Int16,
                "UInt16" => NumberDataViewType.UInt16,
                "Int32" => NumberDataViewType.Int32,
                "UInt32" => NumberDataViewType.UInt32,
                "Int64" => NumberDataViewType.Int64,
                _ => NumberDataViewType.UInt64,
            };
            return column.IsVector ? new VectorDataViewType(item, column.Size) : item;
        }

        /// <summary>Reads a numeric (or key, or boolean as 0/1) column of a row into <c>Size</c> doubles.</summary>
        public static Action<Span<double>> NumberReader(DataViewRow row, DataViewSchema.Column column, string itemType, bool vector) => itemType switch
        {
            "Single" => Reader<float>(row, column, vector, v => v),
            "Double" => Reader<double>(row, column, vector, v => v),
            "SByte" => Reader<sbyte>(row, column, vector, v => v),
            "Byte" or "Key.Byte" => Reader<byte>(row, column, vector, v => v),
            "Int16" => Reader<short>(row, column, vector, v => v),
            "UInt16" or "Key.UInt16" => Reader<ushort>(row, column, vector, v => v),
            "Int32" => Reader<int>(row, column, vector, v => v),
            "UInt32" or "Key.UInt32" => Reader<uint>(row, column, vector, v => v),
            "Int64" => Reader<long>(row, column, vector, v => v),
            "UInt64" or "Key.UInt64" => Reader<ulong>(row, column, vector, v => v),
            "Boolean" => Reader<bool>(row, column, vector, v => v ? 1 : 0),
            _ => throw new InvalidOperationException($"Column '{column.Name}' of type {column.Type} cannot be read as numbers."),
        };

        /// <summary>Reads a scalar column of a row as a category's text: text as it is, numbers and key numbers in invariant form.</summary>
        public static Func<string> CategoryReader(DataViewRow row, DataViewSchema.Column column, string itemType)
        {
            if (itemType == "Text")
            {
                ValueGetter<ReadOnlyMemory<char>> getter = row.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> value = default;
                return () =>
                {
                    getter(ref value);
                    return value.ToString();
                };
            }
            Action<Span<double>> number = NumberReader(row, column, itemType, vector: false);
            double[] buffer = new double[1];
            return () =>
            {
                number(buffer);
                return itemType == "Boolean" ? (buffer[0] != 0).ToString() : buffer[0].ToString("R", CultureInfo.InvariantCulture);
            };
        }

        /// <summary>A getter of the column's own type over generated values: <paramref name="values"/> hold <c>Size</c> doubles per row.</summary>
        public static Delegate NumberGetter(TabularColumn column, double[] values, Func<int> row) => column.ItemType switch
        {
            "Single" => Getter(column, values, row, v => (float)v),
            "Double" => Getter(column, values, row, v => v),
            "SByte" => Getter(column, values, row, v => (sbyte)v),
            "Byte" or "Key.Byte" => Getter(column, values, row, v => (byte)v),
            "Int16" => Getter(column, values, row, v => (short)v),
            "UInt16" or "Key.UInt16" => Getter(column, values, row, v => (ushort)v),
            "Int32" => Getter(column, values, row, v => (int)v),
            "UInt32" or "Key.UInt32" => Getter(column, values, row, v => (uint)v),
            "Int64" => Getter(column, values, row, v => (long)v),
            "UInt64" or "Key.UInt64" => Getter(column, values, row, v => (ulong)v),
            "Boolean" => Getter(column, values, row, v => v != 0),
            _ => throw new InvalidOperationException($"Column '{column.Name}' does not hold numbers."),
        };

        /// <summary>A getter of a text column over generated values.</summary>
        public static Delegate TextGetter(string[] values, Func<int> row) =>
            (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = values[row()].AsMemory());

        /// <summary>The number a category's text stands for (categorical columns of numbers, keys and booleans).</summary>
        public static double CategoryNumber(string category) =>
            bool.TryParse(category, out bool flag) ? (flag ? 1 : 0) : double.Parse(category, CultureInfo.InvariantCulture);

        private static Type RawType(string keyName) => keyName switch
        {
            "Key.Byte" => typeof(byte),
            "Key.UInt16" => typeof(ushort),
            "Key.UInt32" => typeof(uint),
            _ => typeof(ulong),
        };

        private static Action<Span<double>> Reader<T>(DataViewRow row, DataViewSchema.Column column, bool vector, Func<T, double> convert)
        {
            if (!vector)
            {
                ValueGetter<T> getter = row.GetGetter<T>(column);
                T value = default!;
                return destination =>
                {
                    getter(ref value);
                    destination[0] = convert(value);
                };
            }
            ValueGetter<VBuffer<T>> vectorGetter = row.GetGetter<VBuffer<T>>(column);
            VBuffer<T> buffer = default;
            return destination =>
            {
                vectorGetter(ref buffer);
                if (buffer.Length != destination.Length)
                    throw new InvalidOperationException($"Row {row.Position} of column '{column.Name}' has {buffer.Length} values but the flow expects {destination.Length}.");
                int i = 0;
                foreach (T item in buffer.DenseValues()) destination[i++] = convert(item);
            };
        }

        private static Delegate Getter<T>(TabularColumn column, double[] values, Func<int> row, Func<double, T> convert)
        {
            int size = column.Size;
            if (!column.IsVector)
                return (ValueGetter<T>)((ref T value) => value = convert(values[row()]));
            return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) =>
            {
                VBufferEditor<T> editor = VBufferEditor.Create(ref value, size);
                int start = row() * size;
                for (int j = 0; j < size; j++) editor.Values[j] = convert(values[start + j]);
                value = editor.Commit();
            });
        }
    }
}
