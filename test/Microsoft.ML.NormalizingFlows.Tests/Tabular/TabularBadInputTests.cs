using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tests.MLNet;

namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    /// <summary>A row with a text vector, which a flow cannot model.</summary>
    public sealed class TokensRow
    {
        /// <summary>A number.</summary>
        public float X;

        /// <summary>Words.</summary>
        [VectorType(2)]
        public string[] Words = { "a", "b" };
    }

    [TestClass]
    public sealed class TabularBadInputTests
    {
        [TestMethod]
        public void UnknownClassNoLabelAndNumericContextGiveClearErrors()
        {
            var ml = new MLContext(seed: 0);
            List<ClassRow> rows = TableRows.Classes(400, seed: 1);
            IDataView data = ml.Data.LoadFromEnumerable(rows);
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 1);
            options.LabelColumnName = nameof(ClassRow.Class);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(data);
            var unknown = Assert.ThrowsExactly<ArgumentException>(() => model.Generate(10, label: "c9"));
            StringAssert.Contains(unknown.Message, "'c9'");
            StringAssert.Contains(unknown.Message, "'c1'");
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate(0));
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate(10, temperature: 0));
            Assert.ThrowsExactly<NotSupportedException>(() => model.FeatureContributions(new float[3]));

            IDataView withoutLabel = ml.Transforms.DropColumns(nameof(ClassRow.Class)).Fit(data).Transform(data);
            var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Transform(withoutLabel));
            StringAssert.Contains(missing.Message, "'Class'");

            var contextOptions = GenerateTests.Small(epochs: 1);
            contextOptions.InputColumnNames = new[] { nameof(PointRow.X) };
            contextOptions.ContextColumnNames = new[] { nameof(PointRow.Y) };
            IDataView points = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 300).Select(i => new PointRow { X = i % 17 * 0.37f, Y = i % 5 }).ToList());
            using NormalizingFlowTransformer contextModel = ml.Transforms.NormalizingFlow(contextOptions).Fit(points);
            var context = Assert.ThrowsExactly<NotSupportedException>(() => contextModel.Generate(10));
            StringAssert.Contains(context.Message, "'Y'");

            using NormalizingFlowTransformer plain = ml.Transforms.NormalizingFlow(GenerateTests.Small(epochs: 1)).Fit(Tests.Rows.ToDataView(ml, Synthetic.TwoMoons(300, 0.1, 1), 2));
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => plain.Generate(10, label: "a")).Message, "LabelColumnName");
        }

        [TestMethod]
        public void ACorruptTabularFlowFileIsRefusedNamingTheSource()
        {
            var ml = new MLContext(seed: 0);
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 1);
            options.LabelColumnName = nameof(ClassRow.Class);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(TableRows.Classes(300, seed: 1)));
            using var stream = new MemoryStream();
            model.SaveTo(stream);
            byte[] good = stream.ToArray();
            // As written, any edit of the tabular model is refused by its digest; without a digest (files of earlier
            // versions) the content itself is checked.
            foreach ((string key, string value, string reason, bool keepDigest) in new[]
            {
                ("normalizing_flows.tabular", "{\"codec\": {}}", "its tabular part was changed", true),
                ("normalizing_flows.tabular", "{\"codec\": {}}", "tabular model is malformed", false),
                ("normalizing_flows.tabular", "not json", "malformed", false),
                ("normalizing_flows.format", "1", "does not match its content", false),
            })
            {
                var proto = global::Onnx.ModelProto.Parser.ParseFrom(good);
                proto.MetadataProps.Single(p => p.Key == key).Value = value;
                if (!keepDigest) proto.MetadataProps.Remove(proto.MetadataProps.Single(p => p.Key == "normalizing_flows.digest"));
                var e = Assert.ThrowsExactly<InvalidDataException>(() => NormalizingFlowTransformer.Load(ml, new MemoryStream(Google.Protobuf.MessageExtensions.ToByteArray(proto))));
                StringAssert.Contains(e.Message, "the stream");
                StringAssert.Contains(e.Message, reason);
            }
        }

        [TestMethod]
        public void ACategoricalColumnAboveTheLimitIsRefusedAndAtTheLimitTheDensityIsRight()
        {
            // A category uniform over k values and an independent standard-normal value: log p = -log k + log N(x).
            List<KindRow> Draw(int k, int n, int seed)
            {
                var random = new Random(seed);
                return Enumerable.Range(0, n).Select(_ => new KindRow { Class = "a", Kind = $"c{random.Next(k)}", X = (float)Synthetic.Normal(random) }).ToList();
            }
            var ml = new MLContext(seed: 0);
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 15);
            options.InputColumnNames = new[] { nameof(KindRow.X), nameof(KindRow.Kind) };
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(Draw(1000, 5000, 1))));
            StringAssert.Contains(e.Message, "Column 'Kind' has more than 256 distinct values");
            StringAssert.Contains(e.Message, "Conversion.Hash");

            const int k = 256;
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(Draw(k, 5000, 1)));
            List<KindRow> test = Draw(k, 5000, 2);
            double fitted = model.Transform(ml.Data.LoadFromEnumerable(test)).GetColumn<float>("LogDensity").Average(v => (double)v);
            double truth = test.Average(r => -Math.Log(k) - 0.5 * r.X * r.X - 0.5 * Math.Log(2 * Math.PI));
            // Fitting per-category parameters to about 18 rows each costs held-out likelihood by nature: the AIC estimate is
            // 2 parameters / (2 x 18 rows) = 0.056 nats for the conditional base, plus (k - 1) / (2 N) = 0.028 for the
            // category table; the couplings' conditioners read the one-hot context too (measured gap 0.15). The bound
            // checks that order of magnitude; above the limit the gap was 4.3 nats on average, thousands on single rows.
            Assert.AreEqual(truth, fitted, 0.2, $"held-out mean log-density at 256 categories (about 18 training rows each): {fitted:F3} against {truth:F3}");
        }

        [TestMethod]
        public void UnreadableColumnsAndOptionConflictsNameTheColumn()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 50).Select(i => new TokensRow { X = i }).ToList());
            var options = GenerateTests.Small(epochs: 1);
            options.InputColumnNames = new[] { nameof(TokensRow.X), nameof(TokensRow.Words) };
            var vector = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.NormalizingFlow(options).Fit(data));
            StringAssert.Contains(vector.Message, "'Words'");
            var pipeline = ml.Transforms.CopyColumns("Copy", nameof(TokensRow.X)).Append(ml.Transforms.NormalizingFlow(options));
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pipeline.Fit(data)).Message, "'Words'");

            options.InputColumnNames = new[] { nameof(TokensRow.X), nameof(TokensRow.X) };
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.NormalizingFlow(options)).Message, "InputColumnNames");
            options.InputColumnNames = new[] { nameof(TokensRow.X) };
            options.LabelColumnName = "Class";
            options.BaseDistribution = BaseDistributionKind.StudentT;
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.NormalizingFlow(options)).Message, "BaseDistribution");
        }
    }
}
