using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Tests.MLNet;
using Microsoft.ML.NormalizingFlows.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Onnx
{
    /// <summary>The library's own save and load: the flow file.</summary>
    [TestClass]
    public sealed class FlowFileTests
    {
        private static readonly MLContext Ml = new(seed: 0);

        internal static TransformerChain<NormalizingFlowTransformer> FitPipeline(int rows = 600, string? latent = "Latent", int seed = 7)
        {
            IDataView data = Ml.Data.LoadFromEnumerable(PipelineTests.Points(rows, 1));
            return Ml.Transforms.Concatenate("Features", "X", "Y")
                .Append(Ml.Transforms.NormalizingFlow(new NormalizingFlowEstimator.Options
                {
                    NumberOfLayers = 3, HiddenUnits = 16, MaxEpochs = 8, BatchSize = 64, Seed = seed, NumberOfThreads = 1,
                    LatentColumnName = latent, RandomPermutations = true,
                }))
                .Fit(data);
        }

        private static string TempFile(string name) => Path.Combine(Path.GetTempPath(), $"nf-{Guid.NewGuid():N}-{name}");

        [TestMethod]
        public void SavedThenLoadedTransformerScoresIdenticallyAndKeepsItsHistory()
        {
            var model = FitPipeline();
            NormalizingFlowTransformer fitted = model.LastTransformer;
            string path = TempFile("flow.onnx");
            fitted.SaveTo(path);
            using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(Ml, path);

            IDataView data = model.Transform(Ml.Data.LoadFromEnumerable(PipelineTests.Points(300, 2)));
            CollectionAssert.AreEqual(data.GetColumn<float>("LogDensity").ToArray(), loaded.Transform(data).GetColumn<float>("LogDensity").ToArray());
            Assert.AreEqual("Features", loaded.FeatureColumnName);
            Assert.AreEqual("Latent", loaded.LatentColumnName);
            CollectionAssert.AreEqual(new[] { "X", "Y" }, loaded.FeatureNames!.ToArray());
            Assert.AreEqual(fitted.TrainingHistory.Epochs.Count, loaded.TrainingHistory.Epochs.Count);
            Assert.AreEqual(fitted.TrainingHistory.BestValidationLogLikelihood, loaded.TrainingHistory.BestValidationLogLikelihood);
            File.Delete(path);
        }

        [TestMethod]
        public void ALoadedFlowSamplesScoresAndTrainsFurther()
        {
            var model = FitPipeline();
            using var stream = new MemoryStream();
            model.LastTransformer.SaveTo(stream);
            stream.Position = 0;
            using NormalizingFlowTransformer loaded = NormalizingFlowTransformer.Load(Ml, stream);

            using NormalizingFlow flow = loaded.CopyFlow(); // rebuilt from the file
            using var scope = NewDisposeScope();
            Tensor samples = flow.Sample(500, new Generator().manual_seed(1));
            CollectionAssert.AreEqual(new long[] { 500, 2 }, samples.shape);
            float[] torchScores;
            using (no_grad()) torchScores = flow.LogDensity(samples).data<float>().ToArray();
            float[] onnxScores = loaded.Transform(Rows.ToDataView(Ml, samples.data<float>().ToArray(), 2)).GetColumn<float>("LogDensity").ToArray();
            OnnxParityTests.AssertClose("rebuilt flow vs ONNX Runtime", torchScores, onnxScores);

            Tensor data = tensor(Synthetic.TwoMoons(800, 0.1, 3), new long[] { 800, 2 });
            double before = MaximumLikelihoodTrainer.MeanLogDensity(flow, data);
            MaximumLikelihoodTrainer.Fit(flow, data, null, new MaximumLikelihoodOptions { MaxEpochs = 15, BatchSize = 100, LearningRate = 3e-3 });
            Assert.IsTrue(MaximumLikelihoodTrainer.MeanLogDensity(flow, data) > before, "further training did not raise the likelihood");
        }

        [TestMethod]
        public void ABadFileGivesAnErrorNamingIt()
        {
            byte[] good = FitPipeline(latent: null).LastTransformer.ExportDensityOnnx();
            void Check(string name, byte[] bytes, string expected)
            {
                string path = TempFile(name);
                File.WriteAllBytes(path, bytes);
                var e = Assert.ThrowsExactly<InvalidDataException>(() => NormalizingFlowTransformer.Load(Ml, path), name);
                StringAssert.Contains(e.Message, path, name);
                StringAssert.Contains(e.Message, expected, name);
                File.Delete(path);
            }
            Check("truncated.onnx", good[..(good.Length / 2)], "not");
            Check("empty.onnx", Array.Empty<byte>(), "not an ONNX model");
            Check("random.onnx", Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray(), "not");
            Check("text.onnx", System.Text.Encoding.UTF8.GetBytes("this is not a model"), "not");
            Check("foreign.onnx", OrtForeignModel(), "not a normalizing-flow file");
            // A flow file whose weights were cut short: the tensor sizes no longer match.
            var proto = global::Onnx.ModelProto.Parser.ParseFrom(good);
            proto.Graph.Initializer[5].RawData = Google.Protobuf.ByteString.CopyFrom(new byte[4]);
            Check("damaged.onnx", Google.Protobuf.MessageExtensions.ToByteArray(proto), "not a usable normalizing-flow file");
            Assert.ThrowsExactly<FileNotFoundException>(() => NormalizingFlowTransformer.Load(Ml, TempFile("missing.onnx")));
        }

        [TestMethod]
        public void AFileWithANonFiniteWeightOrAnEditedPartIsRefusedNamingThePart()
        {
            byte[] good = FitPipeline(latent: null).LastTransformer.ExportDensityOnnx();
            void Refused(string what, Action<global::Onnx.ModelProto> edit, string expected)
            {
                var proto = global::Onnx.ModelProto.Parser.ParseFrom(good);
                edit(proto);
                var e = Assert.ThrowsExactly<InvalidDataException>(() => NormalizingFlowTransformer.Load(Ml, new MemoryStream(Google.Protobuf.MessageExtensions.ToByteArray(proto))), what);
                StringAssert.Contains(e.Message, "'the stream' is not a usable normalizing-flow file", what);
                StringAssert.Contains(e.Message, expected, what);
            }
            // One weight set to NaN (the file would load and score NaN for every row).
            Refused("NaN weight", proto =>
            {
                global::Onnx.TensorProto weight = proto.Graph.Initializer.First(t => t.Name.EndsWith(".weight", StringComparison.Ordinal) && t.DataType == 1);
                float[] values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray();
                values[0] = float.NaN;
                weight.RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }, "weights part holds 1 non-finite value");
            // A layer's description edited (its rebuilt flow would differ from the graph).
            Refused("edited description", proto =>
            {
                global::Onnx.StringStringEntryProto entry = proto.MetadataProps.Single(p => p.Key == "normalizing_flows.architecture");
                entry.Value = entry.Value.Replace("\"tailBound\":4", "\"tailBound\":5", StringComparison.Ordinal);
                Assert.IsTrue(entry.Value.Contains("\"tailBound\":5", StringComparison.Ordinal), "the edit took place");
            }, "its architecture part was changed");
            // A graph optimizer's work: an initializer that no node reads (the rebuild-only state) deleted.
            Refused("optimized graph", proto =>
            {
                var read = proto.Graph.Node.SelectMany(n => n.Input).ToHashSet();
                global::Onnx.TensorProto unused = proto.Graph.Initializer.First(t => !read.Contains(t.Name));
                proto.Graph.Initializer.Remove(unused);
            }, "its graph part was changed");
        }

        [TestMethod]
        public void AFileFromANewerFormatIsRefusedWithTheReason()
        {
            var proto = global::Onnx.ModelProto.Parser.ParseFrom(FitPipeline(latent: null).LastTransformer.ExportDensityOnnx());
            proto.MetadataProps.Single(p => p.Key == "normalizing_flows.format").Value = "99";
            string path = TempFile("future.onnx");
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));
            var e = Assert.ThrowsExactly<InvalidDataException>(() => NormalizingFlowTransformer.Load(Ml, path));
            StringAssert.Contains(e.Message, "format version '99'");
            File.Delete(path);
        }

        [TestMethod]
        public void ExportedGraphsPassTheOnnxChecker()
        {
            if (!OnnxChecker.Available)
                Assert.Inconclusive("The ONNX checker (Debian package python3-onnx) is not installed; .ci/run installs it.");
            NormalizingFlowTransformer flow = FitPipeline().LastTransformer;
            Assert.IsNull(OnnxChecker.Check(flow.ExportDensityOnnx()));
            Assert.IsNull(OnnxChecker.Check(flow.ExportSamplingOnnx()));
            // A flow over a table with a class and a numeric context: its density graph holds the categories' table.
            using NormalizingFlowTransformer tabular = Tabular.TabularGraphTests.Fit(Ml, Ml.Data.LoadFromEnumerable(Tabular.TabularGraphTests.Rows(500, 1)));
            Assert.IsNull(OnnxChecker.Check(tabular.ExportDensityOnnx()));
            Assert.IsNull(OnnxChecker.Check(tabular.ExportSamplingOnnx()));
        }

        // A valid ONNX model that is not a flow file: ML.NET's own export of a Concatenate.
        private static byte[] OrtForeignModel()
        {
            IDataView data = Ml.Data.LoadFromEnumerable(PipelineTests.Points(10, 1));
            var concat = Ml.Transforms.Concatenate("Features", "X", "Y").Fit(data);
            using var stream = new MemoryStream();
            Ml.Model.ConvertToOnnx(concat, data, stream);
            return stream.ToArray();
        }
    }
}
