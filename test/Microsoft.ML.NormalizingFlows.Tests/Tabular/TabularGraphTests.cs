using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Tabular;
using Microsoft.ML.NormalizingFlows.Tests.Onnx;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    /// <summary>A row with an integer, a real value, a category, a numeric context and a class.</summary>
    public sealed class MixedRow
    {
        /// <summary>An integer count.</summary>
        public int Count;

        /// <summary>A real value.</summary>
        public float Value;

        /// <summary>A category.</summary>
        public string Kind = "";

        /// <summary>A numeric context.</summary>
        public float Load;

        /// <summary>The class.</summary>
        public string Group = "";
    }

    /// <summary>
    /// The density graph of a flow over a table, with a class and a numeric context: run by ONNX Runtime on the rows' raw
    /// values, it gives the row's whole log-density, checked against a reference computed apart from it (the flow in
    /// float64 TorchSharp, the conditional base in C# doubles, the categories' counts from their table).
    /// </summary>
    [TestClass]
    public sealed class TabularGraphTests
    {
        private static readonly string[] Kinds = { "red", "green", "blue" };

        internal static List<MixedRow> Rows(int count, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(_ =>
            {
                bool second = random.NextDouble() < 0.4;
                int kind = random.Next(second ? 2 : 3);
                double load = 5 + 2 * Synthetic.Normal(random);
                return new MixedRow
                {
                    Count = (int)Math.Floor(3 * random.NextDouble() + kind),
                    Value = (float)(0.3 * load + (second ? 2 : -1) + kind + 0.5 * Synthetic.Normal(random)),
                    Kind = Kinds[kind],
                    Load = (float)load,
                    Group = second ? "second" : "first",
                };
            }).ToList();
        }

        internal static NormalizingFlowTransformer Fit(MLContext ml, IDataView data)
        {
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 4);
            options.InputColumnNames = new[] { nameof(MixedRow.Count), nameof(MixedRow.Value), nameof(MixedRow.Kind) };
            options.ContextColumnNames = new[] { nameof(MixedRow.Load) };
            options.LabelColumnName = nameof(MixedRow.Group);
            return ml.Transforms.NormalizingFlow(options).Fit(data);
        }

        // The graph's raw inputs, built from the codec's column order: data values as they are, one-hot categories, raw context.
        private static (float[] Features, float[] Context, int[][] Combinations) RawInputs(TabularCodec codec, List<MixedRow> rows)
        {
            int d = codec.DataWidth, k = codec.ContextWidth;
            var features = new float[rows.Count * d];
            var context = new float[rows.Count * k];
            var combinations = new int[rows.Count][];
            for (int i = 0; i < rows.Count; i++)
            {
                int dataOffset = 0, contextOffset = 0;
                var combination = new List<int>();
                foreach (TabularColumn column in codec.Columns)
                {
                    MixedRow row = rows[i];
                    switch (column.Name)
                    {
                        case nameof(MixedRow.Count): features[i * d + dataOffset] = row.Count; break;
                        case nameof(MixedRow.Value): features[i * d + dataOffset] = row.Value; break;
                        case nameof(MixedRow.Load): context[i * k + contextOffset] = row.Load; break;
                        default:
                            string value = column.Name == nameof(MixedRow.Kind) ? row.Kind : row.Group;
                            int index = Array.IndexOf(column.Categories.ToArray(), value);
                            combination.Add(index);
                            if (index >= 0) context[i * k + contextOffset + index] = 1;
                            break;
                    }
                    dataOffset += column.DataWidth;
                    contextOffset += column.ContextWidth;
                }
                combinations[i] = combination.ToArray();
            }
            return (features, context, combinations);
        }

        [TestMethod]
        public void TabularDensityGraphGivesTheWholeLogDensityOfARawRow()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(Rows(2000, 1));
            using NormalizingFlowTransformer model = Fit(ml, data);
            TabularModel tabular = model.Tabular!;
            TabularCodec codec = tabular.Codec;
            using (NormalizingFlow flow = model.CopyFlow())
                Assert.IsTrue(flow.ContextWidth == codec.ContextWidth, "the flow's layers read the context");

            List<MixedRow> rows = Rows(300, 2);
            rows[0].Kind = "violet"; // an unknown category: probability 0
            (float[] features, float[] context, int[][] combinations) = RawInputs(codec, rows);
            byte[] graph = model.ExportDensityOnnx();
            float[] scored = OrtRunner.Run(graph, features, context, rows.Count, codec.DataWidth, codec.ContextWidth)[FlowOnnx.LogDensityName];
            float[] transformed = model.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float>("LogDensity").ToArray();

            double[] expected = Reference(model, tabular, features, context, combinations);
            Assert.IsTrue(double.IsNegativeInfinity(expected[0]) && float.IsNegativeInfinity(scored[0]) && float.IsNegativeInfinity(transformed[0]),
                $"an unknown category has log-density -infinity (reference {expected[0]}, graph {scored[0]}, transformer {transformed[0]})");
            OnnxParityTests.AssertWithin("graph against the float64 reference", expected[1..], scored[1..].Select(v => (double)v).ToArray(),
                v => Math.Max(1e-4, 1e-5 * Math.Abs(v)));
            OnnxParityTests.AssertWithin("transformer against the graph", scored[1..].Select(v => (double)v).ToArray(),
                transformed[1..].Select(v => (double)v).ToArray(), _ => 0);
        }

        [TestMethod]
        public void TabularFlowsSaveInAnMLNetZipAndScoreAsTheTransformerDoes()
        {
            var ml = new MLContext(seed: 0);
            List<MixedRow> mixed = Rows(2000, 6);
            using NormalizingFlowTransformer conditional = Fit(ml, ml.Data.LoadFromEnumerable(mixed));
            List<MixedRow> scored = Rows(300, 7);
            scored[3].Kind = "violet";
            AssertZipScoresTheSame(ml, conditional, ml.Data.LoadFromEnumerable(mixed).Schema, ml.Data.LoadFromEnumerable(scored));

            // Every kind of column: int, float, whole-number double, float vector, text and boolean categories.
            List<CustomerRow> customers = TableRows.Customers(2000, seed: 8);
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 2);
            options.InputColumnNames = GenerateTests.CustomerColumns;
            options.ScoreColumnName = "Score";
            using NormalizingFlowTransformer table = ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(customers));
            AssertZipScoresTheSame(ml, table, ml.Data.LoadFromEnumerable(customers).Schema, ml.Data.LoadFromEnumerable(TableRows.Customers(300, seed: 9)));
        }

        private static void AssertZipScoresTheSame(MLContext ml, NormalizingFlowTransformer model, DataViewSchema schema, IDataView rows)
        {
            using var zip = new MemoryStream();
            ml.Model.Save(model, schema, zip);
            zip.Position = 0;
            ITransformer loaded = ml.Model.Load(zip, out _);
            double[] expected = model.Transform(rows).GetColumn<float>("LogDensity").Select(v => (double)v).ToArray();
            IDataView reloaded = loaded.Transform(rows);
            double[] actual = reloaded.GetColumn<float>("LogDensity").Select(v => (double)v).ToArray();
            Assert.IsTrue(expected.Any(double.IsFinite));
            for (int i = 0; i < expected.Length; i++)
                Assert.IsTrue(expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])),
                    $"row {i}: transformer {expected[i]:R}, zip {actual[i]:R}");
            if (model.ScoreColumnName is not null)
                CollectionAssert.AreEqual(actual.Select(v => (float)-v).ToArray(), reloaded.GetColumn<float>(model.ScoreColumnName).ToArray());
            Assert.IsFalse(reloaded.Schema.Any(c => c.Name.StartsWith("NormalizingFlow_", StringComparison.Ordinal) && !c.IsHidden), "no temporary column is left");
        }

        [TestMethod]
        public void ThePipelineGraphOfATabularFlowScoresTheRawColumnsAsTheTransformerDoes()
        {
            var ml = new MLContext(seed: 0);
            IDataView training = ml.Data.LoadFromEnumerable(Rows(2000, 10));
            using NormalizingFlowTransformer model = Fit(ml, training);
            List<MixedRow> rows = Rows(200, 11);
            rows[5].Kind = "violet";
            using var stream = new MemoryStream();
            ml.Model.ConvertToOnnxWithFlow(model, training, stream);

            int n = rows.Count;
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor(nameof(MixedRow.Count), new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<int>(rows.Select(r => r.Count).ToArray(), new[] { n, 1 })),
                NamedOnnxValue.CreateFromTensor(nameof(MixedRow.Value), new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(rows.Select(r => r.Value).ToArray(), new[] { n, 1 })),
                NamedOnnxValue.CreateFromTensor(nameof(MixedRow.Kind), new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(rows.Select(r => r.Kind).ToArray(), new[] { n, 1 })),
                NamedOnnxValue.CreateFromTensor(nameof(MixedRow.Load), new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(rows.Select(r => r.Load).ToArray(), new[] { n, 1 })),
                NamedOnnxValue.CreateFromTensor(nameof(MixedRow.Group), new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(rows.Select(r => r.Group).ToArray(), new[] { n, 1 })),
            };
            using var session = new InferenceSession(stream.ToArray(), new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR });
            using var results = session.Run(inputs, new[] { "LogDensity.output" });
            double[] graph = results[0].AsEnumerable<float>().Select(v => (double)v).ToArray();
            double[] expected = model.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float>("LogDensity").Select(v => (double)v).ToArray();
            Assert.IsTrue(double.IsNegativeInfinity(graph[5]) && double.IsNegativeInfinity(expected[5]), "an unknown category scores -infinity in both");
            graph[5] = expected[5] = 0;
            OnnxParityTests.AssertWithin("pipeline graph against the transformer", expected, graph, v => 1e-5 * Math.Max(1, Math.Abs(v)));
        }

        [TestMethod]
        public void TabularSamplingGraphDrawsWhatTheTransformersSamplerDraws()
        {
            var ml = new MLContext(seed: 0);
            using NormalizingFlowTransformer model = Fit(ml, ml.Data.LoadFromEnumerable(Rows(2000, 3)));
            TabularCodec codec = model.Tabular!.Codec;
            List<MixedRow> rows = Rows(200, 4);
            (_, float[] context, _) = RawInputs(codec, rows);
            int d = codec.DataWidth;
            var noise = new double[rows.Count * d];
            FlowSampler.Gaussian(new Random(5), noise);
            float[] graphSamples = OrtRunner.Run(model.ExportSamplingOnnx(), noise.Select(v => (float)v).ToArray(), context, rows.Count, d,
                codec.ContextWidth, FlowOnnx.NoiseName)[FlowOnnx.SamplesName];
            var sampled = new float[rows.Count * d];
            using NormalizingFlow copy = model.CopyFlow();
            new FlowSampler(() => copy, model.Tabular, d).Sample(noise, Array.Empty<double>(), context, rows.Count, temperature: 1, sampled);

            // The sampler floors integer slots; the graph leaves them continuous: compare the continuous slot, and the floor of the integer one.
            int valueSlot = Array.IndexOf(codec.DataSlotNames(), nameof(MixedRow.Value));
            int countSlot = Array.IndexOf(codec.DataSlotNames(), nameof(MixedRow.Count));
            OnnxParityTests.AssertWithin("the continuous column", Enumerable.Range(0, rows.Count).Select(i => (double)sampled[i * d + valueSlot]).ToArray(),
                Enumerable.Range(0, rows.Count).Select(i => (double)graphSamples[i * d + valueSlot]).ToArray(), v => 1e-4 * Math.Max(1, Math.Abs(v)));
            TabularColumn count = codec.Columns.Single(c => c.Name == nameof(MixedRow.Count));
            int agreeing = Enumerable.Range(0, rows.Count).Count(i =>
                Math.Clamp(Math.Floor(graphSamples[i * d + countSlot]), count.Low[0], count.High[0]) == sampled[i * d + countSlot]);
            Assert.AreEqual(rows.Count, agreeing, "the integer column, floored and clipped to its range");
        }

        // log p(x | c) + log P(categories): the flow in float64 TorchSharp on the encoded row, the conditional base in doubles, the table's counts.
        private static double[] Reference(NormalizingFlowTransformer model, TabularModel tabular, float[] features, float[] context, int[][] combinations)
        {
            TabularCodec codec = tabular.Codec;
            int n = combinations.Length, d = codec.DataWidth, k = codec.ContextWidth;
            float[] integers = codec.IntegerMask();
            (double[] shift, double[] scale) = codec.ContextStandardization();
            var x = new double[n * d];
            var c = new double[n * k];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < d; j++) x[i * d + j] = features[i * d + j] + 0.5 * integers[j];
                for (int j = 0; j < k; j++) c[i * k + j] = (context[i * k + j] - shift[j]) / scale[j];
            }
            (NormalizingFlow flow, _) = FlowOnnx.LoadFlow(model.ExportDensityOnnx(), "the model");
            using (flow)
            using (var scope = NewDisposeScope())
            using (var noGrad = no_grad())
            {
                flow.to(ScalarType.Float64);
                (Tensor latent, Tensor logDet) = flow.ToLatentWithLogDet(tensor(x, new long[] { n, d }), tensor(c, new long[] { n, k }));
                double[] z = latent.data<double>().ToArray(), det = logDet.data<double>().ToArray();
                double[][] p = tabular.BaseParameters!;
                var result = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double logBase = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double mean = p[1][j], s = p[3][j];
                        for (int m = 0; m < k; m++) { mean += c[i * k + m] * p[0][m * d + j]; s += c[i * k + m] * p[2][m * d + j]; }
                        s = ConditionalNormalizingFlow.LogScaleBound * Math.Tanh(s / ConditionalNormalizingFlow.LogScaleBound);
                        double u = (z[i * d + j] - mean) * Math.Exp(-s);
                        logBase += -0.5 * u * u - s - 0.5 * Math.Log(2 * Math.PI);
                    }
                    result[i] = logBase + det[i] + codec.Table.LogMass(combinations[i]);
                }
                return result;
            }
        }
    }
}
