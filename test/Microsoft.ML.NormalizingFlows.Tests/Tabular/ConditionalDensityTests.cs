using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    /// <summary>A labelled 1-D row with a categorical attribute.</summary>
    public sealed class KindRow
    {
        /// <summary>The class.</summary>
        public string Class = "";

        /// <summary>A categorical attribute.</summary>
        public string Kind = "";

        /// <summary>The value.</summary>
        public float X;
    }

    [TestClass]
    public sealed class ConditionalDensityTests
    {
        private static List<KindRow> Rows(int count, int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(_ =>
            {
                bool b = random.NextDouble() < 0.4;
                bool wide = random.NextDouble() < (b ? 0.7 : 0.3);
                return new KindRow { Class = b ? "b" : "a", Kind = wide ? "wide" : "narrow", X = (float)((b ? 2 : -1) + (wide ? 1.5 : 0.5) * Synthetic.Normal(random)) };
            }).ToList();
        }

        private static NormalizingFlowTransformer Fit(MLContext ml, IDataView data)
        {
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 15);
            options.InputColumnNames = new[] { nameof(KindRow.X), nameof(KindRow.Kind) };
            options.LabelColumnName = nameof(KindRow.Class);
            options.SampleColumnName = "Sample";
            return ml.Transforms.NormalizingFlow(options).Fit(data);
        }

        [TestMethod]
        public void ConditionalDensityIntegratesToOneForEachClass()
        {
            var ml = new MLContext(seed: 0);
            using NormalizingFlowTransformer model = Fit(ml, ml.Data.LoadFromEnumerable(Rows(3000, 1)));
            const double low = -15, high = 15, step = 0.005;
            int points = (int)Math.Round((high - low) / step) + 1;
            foreach (string label in new[] { "a", "b" })
            {
                var grid = new List<KindRow>();
                foreach (string kind in new[] { "wide", "narrow" })
                    grid.AddRange(Enumerable.Range(0, points).Select(i => new KindRow { Class = label, Kind = kind, X = (float)(low + i * step) }));
                float[] logDensity = model.Transform(ml.Data.LoadFromEnumerable(grid)).GetColumn<float>("LogDensity").ToArray();
                double integral = 0;
                for (int k = 0; k < 2; k++)
                    for (int i = 0; i < points; i++)
                        integral += Math.Exp(logDensity[k * points + i]) * step * (i == 0 || i == points - 1 ? 0.5 : 1);
                Assert.AreEqual(1.0, integral, 0.01, $"sum over kinds of the integral of p(x, kind | class {label})");
            }
        }

        [TestMethod]
        public void SampleColumnIsReproducibleFollowsTheRowClassAndSurvivesSaving()
        {
            var ml = new MLContext(seed: 0);
            List<KindRow> rows = Rows(3000, 2);
            IDataView data = ml.Data.LoadFromEnumerable(rows);
            using NormalizingFlowTransformer model = Fit(ml, data);
            float[][] first = model.Transform(data).GetColumn<float[]>("Sample").ToArray();
            float[][] second = model.Transform(data).GetColumn<float[]>("Sample").ToArray();
            CollectionAssert.AreEqual(first.Select(s => s[0]).ToArray(), second.Select(s => s[0]).ToArray(), "same seed and row order, same draws");
            var engine = ml.Model.CreatePredictionEngine<KindRow, SampleOutput>(model);
            Assert.AreEqual(first[0][0], engine.Predict(rows[0]).Sample[0], 1e-6, "a prediction engine draws the same value for row 0");

            foreach ((string label, double mean) in new[] { ("a", -1.0), ("b", 2.0) })
            {
                double sampled = first.Where((_, i) => rows[i].Class == label).Average(s => s[0]);
                double real = rows.Where(r => r.Class == label).Average(r => r.X);
                Assert.AreEqual(real, sampled, 0.15, $"the sample column draws given class {label}");
            }

            using var stream = new MemoryStream();
            model.SaveTo(stream);
            stream.Position = 0;
            using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(ml, stream);
            float[] before = model.Transform(data).GetColumn<float>("LogDensity").ToArray();
            float[] after = loaded.Transform(data).GetColumn<float>("LogDensity").ToArray();
            for (int i = 0; i < before.Length; i++) Assert.AreEqual(before[i], after[i], 1e-4, $"log-density of row {i} after loading");
            float[][] reloaded = loaded.Transform(data).GetColumn<float[]>("Sample").ToArray();
            Assert.AreEqual(first.Average(s => s[0]), reloaded.Average(s => s[0]), 0.05, "a reloaded model draws equally distributed values");
            List<KindRow> generated = ml.Data.CreateEnumerable<KindRow>(loaded.Generate(500, seed: 1), false).ToList();
            List<KindRow> original = ml.Data.CreateEnumerable<KindRow>(model.Generate(500, seed: 1), false).ToList();
            CollectionAssert.AreEqual(original.Select(r => r.Kind + r.Class).ToList(), generated.Select(r => r.Kind + r.Class).ToList());

        }

        [TestMethod]
        public void TemperatureScalesTheLatentDraws()
        {
            var ml = new MLContext(seed: 0);
            float[] values = Synthetic.TwoMoons(2000, 0.1, seed: 4);
            NormalizingFlowEstimator.Options options = GenerateTests.Small(epochs: 3);
            options.Preset = FlowPreset.NeuralSplineCoupling; // a standard-normal base: the latent is the scaled noise
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(Tests.Rows.ToDataView(ml, values, 2));
            foreach (double temperature in new[] { 0.5, 1.0 })
            {
                float[] generated = model.Generate(4000, seed: 2, temperature: temperature).GetColumn<float[]>("Features").SelectMany(r => r).ToArray();
                using NormalizingFlow flow = model.CopyFlow();
                using var scope = TorchSharp.torch.NewDisposeScope();
                using var noGrad = TorchSharp.torch.no_grad();
                float[] latent = flow.ToLatent(TorchSharp.torch.tensor(generated, new long[] { 4000, 2 })).data<float>().ToArray();
                double deviation = Math.Sqrt(latent.Select(z => (double)z * z).Average());
                Assert.AreEqual(temperature, deviation, 0.03 * temperature, $"latent spread at temperature {temperature}");
            }
        }

        /// <summary>The prediction engine's output.</summary>
        public sealed class SampleOutput
        {
            /// <summary>The draw.</summary>
            [VectorType(1)]
            public float[] Sample = Array.Empty<float>();
        }
    }
}
