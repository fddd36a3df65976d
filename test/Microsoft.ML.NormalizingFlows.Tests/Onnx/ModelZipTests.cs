using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tests.MLNet;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>mlContext.Model.Save and Load of pipelines holding a flow.</summary>
    [TestClass]
    public sealed class ModelZipTests
    {
        [TestMethod]
        public void ASavedPipelineLoadsAndGivesTheSameColumns()
        {
            var ml = new MLContext(seed: 0);
            var model = FlowFileTests.FitPipeline();
            IDataView data = ml.Data.LoadFromEnumerable(PipelineTests.Points(500, 4));
            string path = Path.Combine(Path.GetTempPath(), $"nf-{Guid.NewGuid():N}.zip");
            ml.Model.Save(model, data.Schema, path);

            ITransformer loaded = new MLContext(seed: 1).Model.Load(path, out DataViewSchema inputSchema);
            IDataView before = model.Transform(data), after = loaded.Transform(data);
            Assert.AreEqual(NumberDataViewType.Single, after.Schema["LogDensity"].Type);
            Assert.AreEqual(before.Schema["Latent"].Type, after.Schema["Latent"].Type);
            CollectionAssert.AreEqual(before.Schema.Select(c => c.Name).ToArray(), after.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray());
            AssertSame(before.GetColumn<float>("LogDensity").ToArray(), after.GetColumn<float>("LogDensity").ToArray());
            AssertSame(before.GetColumn<float[]>("Latent").SelectMany(v => v).ToArray(), after.GetColumn<float[]>("Latent").SelectMany(v => v).ToArray());
            File.Delete(path);
        }

        [TestMethod]
        public void AZipRefusesASampleColumnNamingItAndTheFlowFileKeepsIt()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(PipelineTests.Points(300, 4));
            var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                Preset = FlowPreset.RealNvp, NumberOfLayers = 2, HiddenUnits = 8, MaxEpochs = 2, NumberOfThreads = 1, SampleColumnName = "Draw",
            })).Fit(data);
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.Save(model, data.Schema, new MemoryStream()));
            StringAssert.Contains(e.Message, "sample column ('Draw')");
            StringAssert.Contains(e.Message, "SaveTo");

            using var stream = new MemoryStream();
            model.LastTransformer.SaveTo(stream);
            stream.Position = 0;
            using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(ml, stream);
            IDataView features = model.Transform(data);
            Assert.AreEqual(300, loaded.Transform(features).GetColumn<float[]>("Draw").Count(v => v.Length == 2 && v.All(float.IsFinite)), "the loaded flow file adds the sample column");
        }

        [TestMethod]
        public void TheScoreColumnIsTheNegativeLogDensityBeforeAndAfterSaving()
        {
            var ml = new MLContext(seed: 0);
            IDataView data = ml.Data.LoadFromEnumerable(PipelineTests.Points(300, 4));
            var model = ml.Transforms.Concatenate("Features", "X", "Y").Append(ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
            {
                NumberOfLayers = 2, HiddenUnits = 8, MaxEpochs = 2, NumberOfThreads = 1, ScoreColumnName = "Score",
            })).Fit(data);
            float[] logDensity = model.Transform(data).GetColumn<float>("LogDensity").ToArray();
            float[] score = model.Transform(data).GetColumn<float>("Score").ToArray();
            CollectionAssert.AreEqual(logDensity.Select(v => -v).ToArray(), score);
            string path = Path.Combine(Path.GetTempPath(), $"nf-{Guid.NewGuid():N}.zip");
            ml.Model.Save(model, data.Schema, path);
            AssertSame(score, ml.Model.Load(path, out _).Transform(data).GetColumn<float>("Score").ToArray());
            File.Delete(path);
        }

        [TestMethod]
        public void ASavedPipelineLoadsInAFreshProcessWithoutLibtorch()
        {
            var ml = new MLContext(seed: 0);
            var model = FlowFileTests.FitPipeline();
            List<PointRow> points = PipelineTests.Points(700, 5);
            IDataView data = ml.Data.LoadFromEnumerable(points);
            string folder = Path.Combine(Path.GetTempPath(), $"nf-{Guid.NewGuid():N}");
            Directory.CreateDirectory(folder);
            string zip = Path.Combine(folder, "model.zip"), csv = Path.Combine(folder, "points.csv"), output = Path.Combine(folder, "scores.txt");
            ml.Model.Save(model, data.Schema, zip);
            File.WriteAllLines(csv, new[] { "X,Y" }.Concat(points.Select(p => FormattableString.Invariant($"{p.X:R},{p.Y:R}"))));

            string tool = typeof(ModelZipTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LoadCheckPath").Value!;
            Assert.IsTrue(File.Exists(tool), $"the load-check program was not built at {tool}");
            var start = new ProcessStartInfo("dotnet", new[] { tool, zip, csv, output }) { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
            Assert.IsTrue(process.WaitForExit(120_000), "the child process did not finish");
            Assert.AreEqual(0, process.ExitCode, stdout + stderr);
            StringAssert.Contains(stdout, "native libtorch loaded: False");

            float[][] child = File.ReadAllLines(output).Select(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
            IDataView scored = model.Transform(data);
            AssertSame(scored.GetColumn<float>("LogDensity").ToArray(), child.Select(r => r[0]).ToArray());
            AssertSame(scored.GetColumn<float[]>("Latent").SelectMany(v => v).ToArray(), child.SelectMany(r => r.Skip(1)).ToArray());
            Directory.Delete(folder, recursive: true);
        }

        /// <summary>
        /// The same float32 graph run one row per call (the zip form) and 4096 rows per call (the transformer): the
        /// matrix kernels sum in another order. A log-density is a sum of terms up to about ten times its size (base
        /// log-density, per-layer log-determinants), so the bound is 1e-5, absolute or relative (about 16 float32 ulps of
        /// those terms; measured up to 3.3e-6).
        /// </summary>
        internal static void AssertSame(float[] expected, float[] actual) =>
            OnnxParityTests.AssertClose("reloaded against original", expected, actual, absolute: 1e-5);
    }
}
