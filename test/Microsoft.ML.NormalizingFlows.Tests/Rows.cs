using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests
{
    /// <summary>An ML.NET row with a features vector of a size set through a schema definition.</summary>
    public sealed class FeatureRow
    {
        /// <summary>The features.</summary>
        public float[] Features = Array.Empty<float>();
    }

    /// <summary>Scored output with the flow's default column.</summary>
    public sealed class ScoredRow
    {
        /// <summary>The log-density.</summary>
        public float LogDensity;
    }

    internal static class Rows
    {
        /// <summary>An IDataView with a "Features" column of <paramref name="dimension"/> Singles.</summary>
        public static IDataView ToDataView(MLContext ml, float[] values, int dimension, string column = "Features")
        {
            int count = values.Length / dimension;
            var rows = Enumerable.Range(0, count).Select(i => new FeatureRow { Features = values.AsSpan(i * dimension, dimension).ToArray() }).ToList();
            SchemaDefinition definition = SchemaDefinition.Create(typeof(FeatureRow));
            definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
            definition[0].ColumnName = column;
            return ml.Data.LoadFromEnumerable(rows, definition);
        }

        public static float[] LogDensities(IDataView scored, string column = "LogDensity") =>
            scored.GetColumn<float>(column).ToArray();
    }
}
