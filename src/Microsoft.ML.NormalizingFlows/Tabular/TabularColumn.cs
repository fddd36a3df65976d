using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>How a flow models a column.</summary>
    internal enum ColumnKind
    {
        /// <summary>Real values, modelled by the flow as they are.</summary>
        Continuous,

        /// <summary>Whole numbers: dequantized (plus uniform [0, 1) noise) for the flow, floored and clipped to the observed range when generated.</summary>
        Integer,

        /// <summary>Categories (keys, text, booleans, a label): an exact frequency table, and a one-hot context of the flow.</summary>
        Categorical,

        /// <summary>Numeric values the flow is conditioned on (standardized into the context) but does not model.</summary>
        Context,
    }

    /// <summary>What a fitted flow knows of one of the user's columns: enough to read it, model it and write it back.</summary>
    internal sealed class TabularColumn
    {
        public required string Name { get; init; }

        public required ColumnKind Kind { get; init; }

        /// <summary>The item type: a <see cref="ColumnTypes"/> name.</summary>
        public required string ItemType { get; init; }

        /// <summary>Values per row: 1 for a scalar, the size for a vector.</summary>
        public required int Size { get; init; }

        /// <summary>Whether the column is a vector (a vector of size 1 is still a vector).</summary>
        public bool IsVector { get; init; }

        /// <summary>The key count of a key column, else 0.</summary>
        public ulong KeyCount { get; init; }

        /// <summary>Integer columns: the smallest observed value per slot. Context columns: the mean per slot.</summary>
        public double[] Low { get; init; } = Array.Empty<double>();

        /// <summary>Integer columns: the largest observed value per slot. Context columns: the standard deviation per slot.</summary>
        public double[] High { get; init; } = Array.Empty<double>();

        /// <summary>Categorical columns: the observed categories as text (key columns: the key number), in first-seen order.</summary>
        public string[] Categories { get; init; } = Array.Empty<string>();

        /// <summary>Categorical key columns: the key's value names (its KeyValues annotation) per category, or empty.</summary>
        public string[] CategoryNames { get; init; } = Array.Empty<string>();

        /// <summary>The number of slots this column gives the flow's data row.</summary>
        public int DataWidth => Kind is ColumnKind.Continuous or ColumnKind.Integer ? Size : 0;

        /// <summary>The number of slots this column gives the context row.</summary>
        public int ContextWidth => Kind switch
        {
            ColumnKind.Categorical => Categories.Length,
            ColumnKind.Context => Size,
            _ => 0,
        };

        /// <summary>The index of a category given as its text or (key columns) its value name; -1 when unknown.</summary>
        public int IndexOf(string category)
        {
            int index = Array.IndexOf(Categories, category);
            return index >= 0 ? index : Array.IndexOf(CategoryNames, category);
        }

        public JsonObject ToJson() => new()
        {
            ["name"] = Name,
            ["kind"] = Kind.ToString(),
            ["itemType"] = ItemType,
            ["size"] = Size,
            ["isVector"] = IsVector,
            ["keyCount"] = KeyCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["low"] = Numbers(Low),
            ["high"] = Numbers(High),
            ["categories"] = new JsonArray(Categories.Select(c => (JsonNode?)c).ToArray()),
            ["categoryNames"] = new JsonArray(CategoryNames.Select(c => (JsonNode?)c).ToArray()),
        };

        public static TabularColumn FromJson(JsonObject json) => new()
        {
            Name = json["name"]!.GetValue<string>(),
            Kind = Enum.Parse<ColumnKind>(json["kind"]!.GetValue<string>()),
            ItemType = ColumnTypes.Check(json["itemType"]!.GetValue<string>()),
            Size = json["size"]!.GetValue<int>(),
            IsVector = json["isVector"]!.GetValue<bool>(),
            KeyCount = ulong.Parse(json["keyCount"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            Low = json["low"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray(),
            High = json["high"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray(),
            Categories = json["categories"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray(),
            CategoryNames = json["categoryNames"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray(),
        };

        private static JsonArray Numbers(double[] values) => new(values.Select(v => (JsonNode?)v).ToArray());
    }
}
