using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>A row whose features are doubles, not floats.</summary>
    public sealed class DoubleRow
    {
        /// <summary>The features.</summary>
        [VectorType(2)]
        public double[] Features = Array.Empty<double>();
    }

    /// <summary>A row whose features vector has no fixed size.</summary>
    public sealed class VariableRow
    {
        /// <summary>The features.</summary>
        public float[] Features = Array.Empty<float>();
    }

    [TestClass]
    public sealed class BadInputTests
    {
        private readonly MLContext ml = new(seed: 0);

        private NormalizingFlowEstimator Estimator(Action<NormalizingFlowEstimator.Options>? change = null)
        {
            var options = new NormalizingFlowEstimator.Options { NumberOfLayers = 2, HiddenUnits = 8, MaxEpochs = 2, NumberOfThreads = 1 };
            change?.Invoke(options);
            return ml.Transforms.NormalizingFlow(options);
        }

        private IDataView Moons(int count) => Rows.ToDataView(ml, Synthetic.TwoMoons(count, 0.1, 1), 2);

        [TestMethod]
        public void AMissingColumnIsNamedBeforeAndDuringFitting()
        {
            IDataView data = Rows.ToDataView(ml, Synthetic.TwoMoons(100, 0.1, 1), 2, column: "Other");
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator().Fit(data));
            StringAssert.Contains(e.Message, "'Features' was not found");
            StringAssert.Contains(e.Message, "'Other'");
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator().GetOutputSchema(PipelineTests.ShapeOf(data.Schema)));
            StringAssert.Contains(e.Message, "'Features' was not found");
            // In a chain, ML.NET checks the schema before any fitting starts.
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.CopyColumns("Copy", "Other").Append(Estimator()).Fit(data));
            StringAssert.Contains(e.Message, "'Features' was not found");
        }

        [TestMethod]
        public void AColumnOfTheWrongTypeIsNamedWithTheFix()
        {
            IDataView doubles = ml.Data.LoadFromEnumerable(new[] { new DoubleRow { Features = new[] { 1.0, 2.0 } } });
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator().Fit(doubles));
            StringAssert.Contains(e.Message, "'Features' has type Vector<Double");
            StringAssert.Contains(e.Message, "Single");

            IDataView variable = ml.Data.LoadFromEnumerable(new[] { new VariableRow { Features = new[] { 1f, 2f } } });
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator().Fit(variable));
            StringAssert.Contains(e.Message, "known-size vector");

            IDataView scalar = ml.Data.LoadFromEnumerable(new[] { new PointRow { X = 1, Y = 2 } });
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator(o => o.FeatureColumnName = "X").GetOutputSchema(PipelineTests.ShapeOf(scalar.Schema)));
            StringAssert.Contains(e.Message, "'X' has type scalar Single");
        }

        [TestMethod]
        public void NonFiniteTrainingRowsThrowByDefaultAndCanBeSkipped()
        {
            float[] values = Synthetic.TwoMoons(200, 0.1, 1);
            values[2 * 17 + 1] = float.NaN;
            values[2 * 40] = float.PositiveInfinity;
            IDataView data = Rows.ToDataView(ml, values, 2);
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Estimator().Fit(data));
            StringAssert.Contains(e.Message, "Row 17 of column 'Features' holds NaN at slot 1");
            StringAssert.Contains(e.Message, "InvalidRowHandling.Skip");

            var messages = new List<string>();
            ml.Log += (_, m) => { lock (messages) messages.Add(m.Message); };
            using NormalizingFlowTransformer model = Estimator(o => o.InvalidRows = InvalidRowHandling.Skip).Fit(data);
            Assert.IsTrue(messages.Any(m => m.Contains("Left out 2 rows")), "the log does not say how many rows were left out");
            Assert.IsTrue(double.IsFinite(model.TrainingHistory.FinalTrainLogLikelihood));
        }

        [TestMethod]
        public void EmptyDataIsRejected()
        {
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Estimator().Fit(Rows.ToDataView(ml, Array.Empty<float>(), 2)));
            StringAssert.Contains(e.Message, "no rows in column 'Features'");
        }

        [TestMethod]
        public void TooFewRowsForTheValidationSplitAreRejected()
        {
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Estimator().Fit(Moons(5)));
            StringAssert.Contains(e.Message, "5 usable rows");
            StringAssert.Contains(e.Message, "ValidationFraction");
            using var model = Estimator(o => o.ValidationFraction = 0).Fit(Moons(5)); // without validation 5 rows do
            Assert.IsTrue(double.IsNaN(model.TrainingHistory.BestValidationLogLikelihood));
        }

        [TestMethod]
        public void AFeatureWithATinyRealSpreadFitsItsDensity()
        {
            // Slot 1 is 1e-13 N(0, 1): a real spread far below any absolute threshold, but many float32 steps of its values.
            var random = new Random(3);
            float[] Draw(int rows) => Enumerable.Range(0, 2 * rows).Select(i => (float)(Synthetic.Normal(random) * (i % 2 == 0 ? 1 : 1e-13))).ToArray();
            float[] train = Draw(2000), test = Draw(1000);
            using var model = Estimator(o => { o.Preset = FlowPreset.RealNvp; o.MaxEpochs = 20; }).Fit(Rows.ToDataView(ml, train, 2));
            double fitted = model.Transform(Rows.ToDataView(ml, test, 2)).GetColumn<float>("LogDensity").Average(v => (double)v);
            double truth = Enumerable.Range(0, 1000).Average(i =>
                -0.5 * test[2 * i] * test[2 * i] - 0.5 * Math.Pow(test[2 * i + 1] / 1e-13, 2) - Math.Log(1e-13) - Math.Log(2 * Math.PI));
            Assert.AreEqual(truth, fitted, 0.1, "mean held-out log-density against the true density (about +27.1 nats)");
        }

        [TestMethod]
        public void ASpreadBelowTheValuesFloat32ResolutionIsConstant()
        {
            float[] values = Synthetic.TwoMoons(100, 0.1, 1);
            for (int i = 0; i < 100; i++) values[2 * i + 1] = i % 10 == 0 ? 1000f + 0.00006103515625f : 1000f; // every tenth row one float32 step up
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Estimator(o => o.DegenerateSlots = DegenerateSlotHandling.Throw).Fit(Rows.ToDataView(ml, values, 2)));
            StringAssert.Contains(e.Message, "is determined exactly (a constant: a spread below float32's resolution of the values");
            StringAssert.Contains(e.Message, "slot 1 of feature column 'Features' = 1000.0000", e.Message);
        }

        [TestMethod]
        public void AConstantFeatureIsNamedBySlotWhenThrowIsAskedForAndWhenEverySlotIsConstant()
        {
            float[] values = Synthetic.TwoMoons(100, 0.1, 1);
            for (int i = 0; i < 100; i++) values[2 * i + 1] = 4.25f;
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Estimator(o => o.DegenerateSlots = DegenerateSlotHandling.Throw).Fit(Rows.ToDataView(ml, values, 2)));
            StringAssert.Contains(e.Message, "slot 1 of feature column 'Features' = 4.25");
            StringAssert.Contains(e.Message, "DegenerateSlots = PointMass");
            for (int i = 0; i < 100; i++) values[2 * i] = -1.5f;
            e = Assert.ThrowsExactly<InvalidOperationException>(() => Estimator().Fit(Rows.ToDataView(ml, values, 2)));
            StringAssert.Contains(e.Message, "Every slot of the training rows");
            StringAssert.Contains(e.Message, "slot 0 of feature column 'Features' = -1.5, slot 1 of feature column 'Features' = 4.25");
        }

        [TestMethod]
        public void ADimensionMismatchAtTransformIsNamed()
        {
            using NormalizingFlowTransformer model = Estimator().Fit(Moons(100));
            IDataView wider = Rows.ToDataView(ml, new float[] { 1, 2, 3, 4, 5, 6 }, 3);
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Transform(wider));
            StringAssert.Contains(e.Message, "'Features' has 3 values per row but the flow was trained on 2");
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.GetRowToRowMapper(wider.Schema));
        }

        [TestMethod]
        public void ARowWithNaNAtTransformGetsANaNLogDensity()
        {
            using NormalizingFlowTransformer model = Estimator().Fit(Moons(100));
            float[] scored = Rows.LogDensities(model.Transform(Rows.ToDataView(ml, new[] { 0.5f, 0.2f, float.NaN, 0.1f }, 2)));
            Assert.IsTrue(float.IsFinite(scored[0]));
            Assert.IsTrue(float.IsNaN(scored[1]));
        }

        [TestMethod]
        public void InvalidOptionsNameTheOptionAndTheRange()
        {
            void Check(string option, Action<NormalizingFlowEstimator.Options> change)
            {
                var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator(change), option);
                Assert.AreEqual(option, e.ParamName);
                StringAssert.Contains(e.Message, $"Option '{option}' must be");
            }
            Check("NumberOfLayers", o => o.NumberOfLayers = 0);
            Check("HiddenUnits", o => o.HiddenUnits = -1);
            Check("HiddenLayers", o => o.HiddenLayers = 17);
            Check("LogScaleBound", o => o.LogScaleBound = double.NaN);
            Check("ValidationFraction", o => o.ValidationFraction = 0.9);
            Check("MaxEpochs", o => o.MaxEpochs = 0);
            Check("BatchSize", o => o.BatchSize = 0);
            Check("LearningRate", o => o.LearningRate = -1);
            Check("GradientClipNorm", o => o.GradientClipNorm = double.PositiveInfinity);
            Check("EarlyStoppingPatience", o => o.EarlyStoppingPatience = -1);
            Check("NumberOfThreads", o => o.NumberOfThreads = 0);
            Check("FeatureColumnName", o => o.FeatureColumnName = " ");
            Check("LatentColumnName", o => o.LatentColumnName = "LogDensity");
            Check("InvalidRows", o => o.InvalidRows = (InvalidRowHandling)7);
        }
    }
}
