using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Training;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>Raw input with two float columns, as a user's table would have.</summary>
    public sealed class PointRow
    {
        /// <summary>First coordinate.</summary>
        public float X;

        /// <summary>Second coordinate.</summary>
        public float Y;
    }

    /// <summary>An upstream mapping's output: the point's X shifted by one.</summary>
    public sealed class ShiftedRow
    {
        /// <summary>X + 1.</summary>
        public float Shifted;
    }

    /// <summary>The output a prediction engine reads.</summary>
    public sealed class PointPrediction
    {
        /// <summary>The log-density.</summary>
        public float LogDensity;

        /// <summary>The latent value.</summary>
        [VectorType(2)]
        public float[] Latent = Array.Empty<float>();
    }

    [TestClass]
    public sealed class PipelineTests
    {
        internal static List<PointRow> Points(int count, int seed)
        {
            float[] v = Synthetic.TwoMoons(count, 0.1, seed);
            return Enumerable.Range(0, count).Select(i => new PointRow { X = v[2 * i], Y = v[2 * i + 1] }).ToList();
        }

        private static NormalizingFlowEstimator.Options SmallOptions() => new()
        {
            NumberOfLayers = 3, HiddenUnits = 16, MaxEpochs = 5, BatchSize = 64, Seed = 7, NumberOfThreads = 1,
            LatentColumnName = "Latent",
        };

        [TestMethod]
        public void PredictionEngineGivesTheSameValuesAsTransform()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(Points(3000, 1)); // more rows than one scoring block
            var pipeline = ml.Transforms.Concatenate("Features", nameof(PointRow.X), nameof(PointRow.Y))
                .Append(ml.Transforms.NormalizingFlow(SmallOptions()));
            var model = pipeline.Fit(data);

            IDataView scored = model.Transform(data);
            float[] batch = scored.GetColumn<float>("LogDensity").ToArray();
            float[][] latents = scored.GetColumn<float[]>("Latent").ToArray();
            var engine = ml.Model.CreatePredictionEngine<PointRow, PointPrediction>(model);
            List<PointRow> rows = Points(3000, 1);
            Assert.AreEqual(rows.Count, batch.Length);
            long runsBefore = model.LastTransformer.GraphRuns;
            int predictions = 0;
            var reused = new PointRow();
            for (int i = 0; i < rows.Count; i += 97)
            {
                PointPrediction p = engine.Predict(rows[i]);
                Assert.AreEqual(batch[i], p.LogDensity, 1e-5f, $"row {i}");
                // A block of rows and a single row take different matrix-product kernels: equal up to float rounding.
                for (int j = 0; j < 2; j++) Assert.AreEqual(latents[i][j], p.Latent[j], 1e-5f, $"row {i}, latent {j}");
                // One object whose values change between calls gets each new row's values, not the last one's.
                (reused.X, reused.Y) = (rows[i + 1].X, rows[i + 1].Y);
                Assert.AreEqual(batch[i + 1], engine.Predict(reused).LogDensity, 1e-5f, $"row {i + 1} through a reused input object");
                predictions += 2;
            }
            Assert.AreEqual(predictions, model.LastTransformer.GraphRuns - runsBefore, "one graph run per prediction, for both output columns");
        }

        [TestMethod]
        public void ScoringRunsEachUpstreamTransformOnceAndReadsItsSourceOnce()
        {
            var ml = new MLContext(seed: 0);
            int calls = 0;
            var pipeline = ml.Transforms.CustomMapping<PointRow, ShiftedRow>((row, shifted) =>
                {
                    Interlocked.Increment(ref calls);
                    shifted.Shifted = row.X + 1;
                }, contractName: null)
                .Append(ml.Transforms.Concatenate("Features", nameof(ShiftedRow.Shifted), nameof(PointRow.Y)))
                .Append(ml.Transforms.NormalizingFlow(SmallOptions()));
            var model = pipeline.Fit(ml.Data.LoadFromEnumerable(Points(600, 1)));

            // 5,000 rows (more than one scoring block) from a source that refuses a second cursor, read with one cursor
            // that takes a pass-through column and the flow's column from each row.
            List<PointRow> rows = Points(5000, 2);
            var once = new ReadOnceView(ml.Data.LoadFromEnumerable(rows));
            calls = 0;
            IDataView scored = model.Transform(once);
            var shifted = new List<float>();
            var logDensity = new List<float>();
            using (DataViewRowCursor cursor = scored.GetRowCursor(scored.Schema))
            {
                ValueGetter<float> getShifted = cursor.GetGetter<float>(scored.Schema[nameof(ShiftedRow.Shifted)]);
                ValueGetter<float> getLogDensity = cursor.GetGetter<float>(scored.Schema["LogDensity"]);
                float a = 0, b = 0;
                while (cursor.MoveNext())
                {
                    getShifted(ref a);
                    getLogDensity(ref b);
                    shifted.Add(a);
                    logDensity.Add(b);
                }
            }
            Assert.AreEqual(5000, calls, "the upstream mapping ran once per row");
            CollectionAssert.AreEqual(rows.Select(r => r.X + 1).ToArray(), shifted.ToArray(), "pass-through values in row order");
            CollectionAssert.AreEqual(model.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float>("LogDensity").ToArray(), logDensity.ToArray(),
                "each row's own log-density");
        }

        /// <summary>A source that can be read once: a second cursor throws.</summary>
        private sealed class ReadOnceView : IDataView
        {
            private readonly IDataView inner;
            private int cursors;

            public ReadOnceView(IDataView inner) => this.inner = inner;

            public bool CanShuffle => false;

            public DataViewSchema Schema => inner.Schema;

            public long? GetRowCount() => null;

            public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
                Interlocked.Increment(ref cursors) == 1 ? inner.GetRowCursor(columnsNeeded.Select(c => inner.Schema[c.Index]))
                    : throw new InvalidOperationException("This source can be read only once.");

            public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
                new[] { GetRowCursor(columnsNeeded, rand) };
        }

        [TestMethod]
        public void EachOutputRowCarriesTheDensityOfItsOwnFeaturesAfterAShuffle()
        {
            // The transform reads features ahead in blocks on a second cursor: check the pairing on a shuffled input.
            var ml = new MLContext(seed: 0);
            var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(SmallOptions()))
                .Fit(ml.Data.LoadFromEnumerable(Points(500, 6)));
            IDataView shuffled = ml.Data.ShuffleRows(ml.Data.LoadFromEnumerable(Points(2500, 7)), seed: 3);
            IDataView scored = model.Transform(shuffled);
            var features = new List<float>();
            var fromTransform = new List<float>();
            using (DataViewRowCursor cursor = scored.GetRowCursor(scored.Schema))
            {
                var getFeatures = cursor.GetGetter<VBuffer<float>>(scored.Schema["Features"]);
                var getDensity = cursor.GetGetter<float>(scored.Schema["LogDensity"]);
                VBuffer<float> f = default;
                float density = 0;
                while (cursor.MoveNext())
                {
                    getFeatures(ref f);
                    getDensity(ref density);
                    features.AddRange(f.DenseValues());
                    fromTransform.Add(density);
                }
            }
            using NormalizingFlow flow = model.LastTransformer.CopyFlow();
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var noGrad = TorchSharp.torch.no_grad();
            float[] direct = flow.LogDensity(TorchSharp.torch.tensor(features.ToArray(), new long[] { fromTransform.Count, 2 }))
                .data<float>().ToArray();
            Assert.AreEqual(2500, fromTransform.Count);
            for (int i = 0; i < direct.Length; i++) Assert.AreEqual(direct[i], fromTransform[i], 1e-4f, $"row {i}");
        }

        [TestMethod]
        public void SchemasAreDeclaredBeforeFittingAndMatchAfterwards()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(Points(200, 2));
            var pipeline = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(SmallOptions()));
            SchemaShape shape = pipeline.GetOutputSchema(ShapeOf(data.Schema));
            SchemaShape.Column logDensity = shape.Single(c => c.Name == "LogDensity");
            Assert.AreEqual(SchemaShape.Column.VectorKind.Scalar, logDensity.Kind);
            Assert.AreEqual(NumberDataViewType.Single, logDensity.ItemType);
            Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Latent").Kind);

            DataViewSchema output = pipeline.Fit(data).Transform(data).Schema;
            Assert.AreEqual(NumberDataViewType.Single, output["LogDensity"].Type);
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), output["Latent"].Type);
            Assert.AreEqual(0, output["X"].Index, "pass-through columns keep their indices");
        }

        [TestMethod]
        public void ComposesWithNormalizationCachingAndADownstreamTrainer()
        {
            var ml = new MLContext(seed: 0);
            List<PointRow> points = Points(600, 3);
            IDataView data = ml.Data.LoadFromEnumerable(points);
            var pipeline = ml.Transforms.Concatenate("Features", "X", "Y")
                .Append(ml.Transforms.NormalizeMeanVariance("Features"))
                .AppendCacheCheckpoint(ml)
                .Append(ml.Transforms.NormalizingFlow(SmallOptions()))
                .Append(ml.Transforms.CopyColumns("Label", "LogDensity"))
                .Append(ml.Regression.Trainers.Sdca(labelColumnName: "Label", featureColumnName: "Features", maximumNumberOfIterations: 5));
            var model = pipeline.Fit(data);
            float[] scores = model.Transform(data).GetColumn<float>("Score").ToArray();
            Assert.AreEqual(points.Count, scores.Length);
            Assert.IsTrue(scores.All(float.IsFinite));
        }

        [TestMethod]
        public void DoublePrecisionTrainsAndScoresInFloat64()
        {
            var ml = new MLContext(seed: 0);
            List<PointRow> points = Points(400, 8);
            IDataView data = ml.Data.LoadFromEnumerable(points);
            var options = SmallOptions();
            options.Precision = FlowPrecision.Double;
            var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(options)).Fit(data);
            using NormalizingFlow flow = model.LastTransformer.CopyFlow();
            Assert.AreEqual(TorchSharp.torch.ScalarType.Float64, flow.ElementType);

            double[] rows = points.SelectMany(p => new double[] { p.X, p.Y }).ToArray();
            double[] expected;
            using (var scope = TorchSharp.torch.NewDisposeScope())
            using (var noGrad = TorchSharp.torch.no_grad())
                expected = flow.LogDensity(TorchSharp.torch.tensor(rows, new long[] { points.Count, 2 })).data<double>().ToArray();
            // The flow file's graph computes in float64: unoptimized (ONNX Runtime's fusions reorder sums), within 1e-10 of TorchSharp's float64.
            double[] graph = Onnx.OrtRunner.Run(model.LastTransformer.ExportDensityOnnx(), NormalizingFlows.Onnx.FlowOnnx.FeaturesName, rows, points.Count, 2,
                optimized: false)[NormalizingFlows.Onnx.FlowOnnx.LogDensityName];
            Onnx.OnnxParityTests.AssertWithin("float64 graph against TorchSharp float64", expected, graph, _ => 1e-10);
            // The column is that float64 value rounded once to float32 (half an ulp, plus what the optimized session reorders).
            float[] scores = model.Transform(data).GetColumn<float>("LogDensity").ToArray();
            Onnx.OnnxParityTests.AssertWithin("the column against float64, rounded", expected, scores.Select(v => (double)v).ToArray(), v => 6e-8 * Math.Abs(v) + 1e-12);
            // Saved in an ML.NET zip, the float64 graph reads and writes the float32 columns through casts.
            using var zip = new MemoryStream();
            ml.Model.Save(model, data.Schema, zip);
            zip.Position = 0;
            float[] reloaded = ml.Model.Load(zip, out _).Transform(data).GetColumn<float>("LogDensity").ToArray();
            Onnx.OnnxParityTests.AssertWithin("the zip's column", scores.Select(v => (double)v).ToArray(), reloaded.Select(v => (double)v).ToArray(), v => 1e-7 * Math.Abs(v));
        }

        [TestMethod]
        public void TheSameSeedGivesIdenticalLogDensities()
        {
            float[] Fit()
            {
                var ml = new MLContext(seed: 0);
                IDataView data = ml.Data.LoadFromEnumerable(Points(500, 4));
                var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(SmallOptions())).Fit(data);
                return model.Transform(data).GetColumn<float>("LogDensity").ToArray();
            }
            CollectionAssert.AreEqual(Fit(), Fit());
        }

        [TestMethod]
        public void ADifferentSeedGivesADifferentModel()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(Points(500, 4));
            float[] Fit(int seed)
            {
                var options = SmallOptions();
                options.Seed = seed;
                var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(options)).Fit(data);
                return model.Transform(data).GetColumn<float>("LogDensity").ToArray();
            }
            CollectionAssert.AreNotEqual(Fit(1), Fit(2));
        }

        [TestMethod]
        public void ProgressReachesTheMLContextLogAndTheProgressCallback()
        {
            var ml = new MLContext(seed: 0);
            var messages = new List<string>();
            ml.Log += (_, e) => { if (e.Source.Contains(nameof(NormalizingFlowEstimator))) lock (messages) messages.Add(e.Message); };
            var reports = new List<TrainingProgress>();
            var options = SmallOptions();
            options.Progress = new Collect(reports);
            ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(options))
                .Fit(ml.Data.LoadFromEnumerable(Points(300, 5)));
            Assert.AreEqual(5, reports.Count);
            Assert.IsTrue(messages.Any(m => m.Contains("epoch 5/5")), string.Join("\n", messages));
            Assert.IsTrue(messages.Any(m => m.Contains("validation log-likelihood")), string.Join("\n", messages));
        }

        /// <summary>ML.NET's SchemaShape.Create is internal; EstimatorChain calls it the same way before fitting.</summary>
        internal static SchemaShape ShapeOf(DataViewSchema schema) =>
            (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public,
                new[] { typeof(DataViewSchema) })!.Invoke(null, new object[] { schema })!;

        private sealed class Collect : IProgress<TrainingProgress>
        {
            private readonly List<TrainingProgress> reports;

            public Collect(List<TrainingProgress> reports) => this.reports = reports;

            public void Report(TrainingProgress value) => reports.Add(value);
        }
    }
}
