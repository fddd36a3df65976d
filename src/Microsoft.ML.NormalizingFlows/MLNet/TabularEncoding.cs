using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tabular;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// ML.NET built-ins that encode a table's columns as a tabular flow's density graph reads them: the data columns
    /// converted to Single and concatenated into <see cref="Features"/>; each categorical column mapped to a key over the
    /// model's own categories, in their order, then to its one-hot indicator vector (an unknown value gives zeros, which
    /// the graph scores as probability 0); numeric context converted to Single; categories and context concatenated into
    /// <see cref="Context"/> in the model's column order. Being built-ins, they save in model zips and export to ONNX.
    /// </summary>
    internal static class TabularEncoding
    {
        internal const string Features = "NormalizingFlow_Features";
        internal const string Context = "NormalizingFlow_Context";

        /// <summary>The encoding chain and the temporary columns it adds (to drop after scoring).</summary>
        public static (IEstimator<ITransformer> Chain, string[] Temporaries) Build(MLContext ml, TabularCodec codec)
        {
            IEstimator<ITransformer> chain = new EstimatorChain<ITransformer>();
            var temporaries = new List<string>();
            var data = new List<string>();
            var context = new List<string>();
            for (int i = 0; i < codec.Columns.Count; i++)
            {
                TabularColumn column = codec.Columns[i];
                string name = $"NormalizingFlow_Column{i}";
                temporaries.Add(name);
                if (column.Kind != ColumnKind.Categorical)
                {
                    chain = chain.Append(ml.Transforms.Conversion.ConvertType(name, column.Name, DataKind.Single));
                    (column.Kind == ColumnKind.Context ? context : data).Add(name);
                    continue;
                }
                string key = name + "_Key";
                temporaries.Add(key);
                if (column.ItemType == "Text")
                {
                    chain = chain.Append(ml.Transforms.Conversion.MapValueToKey(key, column.Name,
                        keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence, keyData: TextKeys(ml, column)));
                }
                else
                {
                    string number = name + "_Number";
                    temporaries.Add(number);
                    chain = chain.Append(ml.Transforms.Conversion.ConvertType(number, column.Name, DataKind.Single))
                        .Append(ml.Transforms.Conversion.MapValueToKey(key, number,
                            keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence, keyData: NumberKeys(ml, column)));
                }
                chain = chain.Append(ml.Transforms.Conversion.MapKeyToVector(name, key));
                context.Add(name);
            }
            chain = chain.Append(ml.Transforms.Concatenate(Features, data.ToArray()));
            temporaries.Add(Features);
            if (context.Count > 0)
            {
                chain = chain.Append(ml.Transforms.Concatenate(Context, context.ToArray()));
                temporaries.Add(Context);
            }
            return (chain, temporaries.ToArray());
        }

        /// <summary>An empty view with the columns the model reads, in their types, to fit the stateless chain on.</summary>
        public static IDataView EmptyInput(TabularCodec codec)
        {
            TabularColumn[] columns = codec.Columns.ToArray();
            return new GeneratedDataView(columns,
                columns.Select(c => c.ItemType == "Text" ? null : Array.Empty<double>()).ToArray(),
                columns.Select(c => c.ItemType == "Text" ? Array.Empty<string>() : null).ToArray(), 0);
        }

        private static IDataView TextKeys(MLContext ml, TabularColumn column) =>
            ml.Data.LoadFromEnumerable(column.Categories.Select(c => new TextKey { Value = c }));

        // Numeric, key and boolean categories as the Single values ConvertType gives them; refused where Single would merge two.
        private static IDataView NumberKeys(MLContext ml, TabularColumn column)
        {
            float[] values = column.Categories.Select(c => (float)ColumnTypes.CategoryNumber(c)).ToArray();
            if (values.Distinct().Count() != values.Length || column.Categories.Any(c => (double)(float)ColumnTypes.CategoryNumber(c) != ColumnTypes.CategoryNumber(c)))
                throw new NotSupportedException($"Column '{column.Name}' has categories that Single cannot hold apart exactly, which the saved form's " +
                    "ML.NET encoding needs; save the model with SaveTo, or give the column as text.");
            return ml.Data.LoadFromEnumerable(values.Select(v => new NumberKey { Value = v }));
        }

        private sealed class TextKey
        {
            public string Value = "";
        }

        private sealed class NumberKey
        {
            public float Value;
        }
    }
}
