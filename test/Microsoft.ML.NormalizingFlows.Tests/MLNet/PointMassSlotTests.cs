using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tests.Onnx;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>A slot the training rows determine (a constant, a repeat) is a point mass: the others fit as if it were not there, a row that deviates ranks lowest.</summary>
    [TestClass]
    public sealed class PointMassSlotTests
    {
        private const float Constant = 4.25f;

        // Two correlated Gaussian slots, with the constant inserted at slot 1 when asked.
        private static float[] Draw(int rows, int seed, bool withConstant)
        {
            var random = new Random(seed);
            int d = withConstant ? 3 : 2;
            var values = new float[rows * d];
            for (int i = 0; i < rows; i++)
            {
                double a = Synthetic.Normal(random), b = 0.6 * a + 0.8 * Synthetic.Normal(random);
                values[i * d] = (float)a;
                values[i * d + d - 1] = (float)(2 + 0.5 * b);
                if (withConstant) values[i * d + 1] = Constant;
            }
            return values;
        }

        private static NormalizingFlowEstimator.Options Options() => new()
        {
            Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 3, HiddenUnits = 32, MaxEpochs = 10, BatchSize = 128, LearningRate = 3e-3, Seed = 4, NumberOfThreads = 1,
        };

        [TestMethod]
        public void AConstantSlotIsAPointMassTheOtherSlotsFitAsAloneAndADeviatingRowRanksLowest()
        {
            var ml = new MLContext(seed: 0);
            var messages = new List<string>();
            ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
            using NormalizingFlowTransformer withConstant = ml.Transforms.NormalizingFlow(Options()).Fit(Rows.ToDataView(ml, Draw(2000, 1, true), 3));
            using NormalizingFlowTransformer alone = ml.Transforms.NormalizingFlow(Options()).Fit(Rows.ToDataView(ml, Draw(2000, 1, false), 2));
            Assert.IsTrue(messages.Any(m => m.Contains("modelled as point masses: slot 1 of feature column 'Features' = 4.25")), "the log names the constant slot");

            // Rows that hold the constant: the density of the other two slots, as the fit without the slot gives it.
            float[] test3 = Draw(500, 2, true), test2 = Draw(500, 2, false);
            float[] scored = Rows.LogDensities(withConstant.Transform(Rows.ToDataView(ml, test3, 3)));
            float[] reference = Rows.LogDensities(alone.Transform(Rows.ToDataView(ml, test2, 2)));
            for (int i = 0; i < scored.Length; i++) Assert.AreEqual(reference[i], scored[i], 1e-4, $"row {i}");

            // A row off the constant by 0.01 loses exactly the penalty; it ranks below a row 40 standard deviations out
            // on the modelled slots.
            float[] probes = { 0.3f, Constant + 0.01f, 2.1f, 40f, Constant, 2f, 0.3f, Constant, 2.1f };
            float[] probeScores = Rows.LogDensities(withConstant.Transform(Rows.ToDataView(ml, probes, 3)));
            Assert.AreEqual(probeScores[2] - 1e6, probeScores[0], 1, "the deviating row's log-density is its other slots' less 1e6");
            Assert.IsTrue(float.IsFinite(probeScores[0]) && probeScores[0] < probeScores[1], $"deviating {probeScores[0]}, far out {probeScores[1]}");
            float[] contributions = withConstant.FeatureContributions(probes[..3]);
            Assert.AreEqual(1e6f, contributions[1], "the constant slot's contribution is the penalty");

            // The latent column reports 0 at the constant slot; drawn rows hold the constant.
            using NormalizingFlowTransformer withLatent = ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                Preset = FlowPreset.RealNvp, MaxEpochs = 2, LatentColumnName = "Latent", SampleColumnName = "Sample", Seed = 1, NumberOfThreads = 1,
            }).Fit(Rows.ToDataView(ml, Draw(500, 3, true), 3));
            IDataView latentRows = withLatent.Transform(Rows.ToDataView(ml, test3, 3));
            Assert.IsTrue(latentRows.GetColumn<float[]>("Latent").All(z => z.Length == 3 && z[1] == 0 && float.IsFinite(z[0])));
            Assert.IsTrue(latentRows.GetColumn<float[]>("Sample").All(x => x[1] == Constant), "the sample column holds the constant");
            Assert.IsTrue(withConstant.Generate(200, seed: 1).GetColumn<float[]>("Features").All(x => x[1] == Constant), "generated rows hold the constant");

            // Its graphs are valid ONNX (the checker runs where python3-onnx is installed, as .ci/run does).
            if (OnnxChecker.Available)
            {
                Assert.IsNull(OnnxChecker.Check(withConstant.ExportDensityOnnx()), "density graph");
                Assert.IsNull(OnnxChecker.Check(withConstant.ExportSamplingOnnx()), "sampling graph");
            }

            // Saved both ways, the model scores the same.
            using var stream = new MemoryStream();
            withConstant.SaveTo(stream);
            stream.Position = 0;
            using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(ml, stream);
            CollectionAssert.AreEqual(probeScores, Rows.LogDensities(loaded.Transform(Rows.ToDataView(ml, probes, 3))));
            string path = Path.Combine(Path.GetTempPath(), $"nf-constant-{Guid.NewGuid():N}.zip");
            IDataView probeRows = Rows.ToDataView(ml, probes, 3);
            ml.Model.Save(withConstant, probeRows.Schema, path);
            ITransformer zipped = new MLContext(seed: 1).Model.Load(path, out _);
            ModelZipTests.AssertSame(probeScores, Rows.LogDensities(zipped.Transform(probeRows)));
            File.Delete(path);
        }

        [TestMethod]
        public void ARepeatedSlotIsAPointMassGivenTheSlotItRepeats()
        {
            // Slot 2 repeats slot 0 in every row: the fit equals the fit without it on rows that repeat it, a row that does
            // not loses the penalty, and drawn rows repeat it.
            var ml = new MLContext(seed: 0);
            float[] Repeat(float[] pairs) => Enumerable.Range(0, pairs.Length / 2).SelectMany(i => new[] { pairs[2 * i], pairs[2 * i + 1], pairs[2 * i] }).ToArray();
            float[] pairs = Draw(2000, 1, false);
            using NormalizingFlowTransformer repeated = ml.Transforms.NormalizingFlow(Options()).Fit(Rows.ToDataView(ml, Repeat(pairs), 3));
            using NormalizingFlowTransformer alone = ml.Transforms.NormalizingFlow(Options()).Fit(Rows.ToDataView(ml, pairs, 2));
            float[] test = Draw(300, 2, false);
            float[] scored = Rows.LogDensities(repeated.Transform(Rows.ToDataView(ml, Repeat(test), 3)));
            float[] reference = Rows.LogDensities(alone.Transform(Rows.ToDataView(ml, test, 2)));
            for (int i = 0; i < scored.Length; i++) Assert.AreEqual(reference[i], scored[i], 1e-4, $"row {i}");
            float[] off = { test[0], test[1], test[0] + 0.5f };
            Assert.AreEqual(reference[0] - 1e6, Rows.LogDensities(repeated.Transform(Rows.ToDataView(ml, off, 3)))[0], 1, "a row that does not repeat slot 0 loses the penalty");
            Assert.IsTrue(repeated.Generate(200, seed: 3).GetColumn<float[]>("Features").All(x => x[2] == x[0]), "drawn rows repeat slot 0");
            var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            {
                NormalizingFlowEstimator.Options strict = Options();
                strict.DegenerateSlots = DegenerateSlotHandling.Throw;
                ml.Transforms.NormalizingFlow(strict).Fit(Rows.ToDataView(ml, Repeat(pairs), 3));
            });
            StringAssert.Contains(e.Message, "slot 2 of feature column 'Features' = slot 0 of feature column 'Features'");
        }

        [TestMethod]
        public void AConstantColumnOfATableWithALabelIsAPointMassToo()
        {
            var ml = new MLContext(seed: 0);
            var random = new Random(5);
            var rows = Enumerable.Range(0, 1500).Select(i => new TableRow
            {
                X = (float)(Synthetic.Normal(random) + (i % 2 == 0 ? 2 : -2)), Flat = 7.3f, Y = (float)Synthetic.Normal(random), Label = i % 2 == 0 ? "a" : "b",
            }).ToList();
            NormalizingFlowEstimator.Options options = Options();
            options.InputColumnNames = new[] { "X", "Flat", "Y" };
            options.LabelColumnName = "Label";
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(rows));
            var probes = new List<TableRow>
            {
                new() { X = 2, Flat = 7.3f, Y = 0, Label = "a" },
                new() { X = 2, Flat = 7.5f, Y = 0, Label = "a" },
            };
            float[] scores = model.Transform(ml.Data.LoadFromEnumerable(probes)).GetColumn<float>("LogDensity").ToArray();
            Assert.IsTrue(scores[0] > -5, $"a typical row {scores[0]}");
            Assert.AreEqual(scores[0] - 1e6, scores[1], 1, "the row off the constant column loses the penalty");
            Assert.IsTrue(model.Generate(100, seed: 2).GetColumn<float>("Flat").All(v => v == 7.3f), "generated rows hold the constant");
        }

        private sealed class TableRow
        {
            public float X;
            public float Flat;
            public float Y;
            public string Label = "";
        }
    }
}
