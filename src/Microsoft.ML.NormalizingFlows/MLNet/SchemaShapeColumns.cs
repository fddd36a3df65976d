using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Makes the <see cref="SchemaShape.Column"/>s a flow adds. Their constructor is internal to ML.NET, so a throw-away
    /// custom mapping, whose output schema definition has the wanted name and type, produces them through public API.
    /// </summary>
    internal static class SchemaShapeColumns
    {
        private static readonly MLContext Context = new(seed: 0);

        public static SchemaShape.Column Single(string name) => Make<ScalarRow>(name, NumberDataViewType.Single);

        public static SchemaShape.Column Boolean(string name) => Make<BooleanRow>(name, BooleanDataViewType.Instance);

        public static SchemaShape.Column SingleVector(string name) =>
            Make<VectorRow>(name, new VectorDataViewType(NumberDataViewType.Single, 1));

        private static SchemaShape.Column Make<TRow>(string name, DataViewType type)
            where TRow : class, new()
        {
            SchemaDefinition definition = SchemaDefinition.Create(typeof(TRow));
            definition[0].ColumnName = name;
            definition[0].ColumnType = type;
            var estimator = Context.Transforms.CustomMapping<NoInput, TRow>((_, _) => { }, contractName: null, outputSchemaDefinition: definition);
            SchemaShape shape = estimator.GetOutputSchema(new SchemaShape(Array.Empty<SchemaShape.Column>()));
            return shape.Single(c => c.Name == name);
        }

        private sealed class NoInput
        {
        }

        private sealed class ScalarRow
        {
            public float Value = 0;
        }

        private sealed class BooleanRow
        {
            public bool Value = false;
        }

        private sealed class VectorRow
        {
            [VectorType]
            public float[] Value = Array.Empty<float>();
        }
    }
}
