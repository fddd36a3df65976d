using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.MLNet
{
    /// <summary>
    /// No process-wide state in a fit: the same seed gives the same model on several threads at once, the library's
    /// layers draw nothing from TorchSharp's global generator, the thread count comes back, and concurrent scoring
    /// equals a single-threaded run.
    /// </summary>
    [TestClass]
    public sealed class ConcurrencyTests
    {
        private static NormalizingFlowEstimator.Options Options() => new()
        {
            Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 2, HiddenUnits = 16, MaxEpochs = 3, BatchSize = 64, Seed = 7, NumberOfThreads = 1,
        };

        [TestMethod]
        public void FitsWithTheSameSeedOnFourThreadsAtOnceGiveTheModelOfASequentialFit()
        {
            float[] train = Synthetic.TwoMoons(600, 0.1, 1), test = Synthetic.TwoMoons(300, 0.1, 2);
            float[] Fit()
            {
                var ml = new MLContext(seed: 0);
                using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(Options()).Fit(Rows.ToDataView(ml, train, 2));
                return Rows.LogDensities(model.Transform(Rows.ToDataView(ml, test, 2)));
            }
            int threadsBefore = get_num_threads();
            float[] sequential = Fit();
            Assert.AreEqual(threadsBefore, get_num_threads(), "the thread count is restored after a fit");
            float[][] concurrent = Enumerable.Range(0, 4).Select(_ => Task.Run(Fit)).ToArray().Select(t => t.Result).ToArray();
            for (int i = 0; i < concurrent.Length; i++) CollectionAssert.AreEqual(sequential, concurrent[i], $"concurrent fit {i}");
            Assert.AreEqual(threadsBefore, get_num_threads(), "the thread count is restored after concurrent fits");
        }

        [TestMethod]
        public void PresetFlowsDrawNothingFromTheGlobalGeneratorAndIgnoreItsState()
        {
            var architecture = new FlowArchitecture { Preset = FlowPreset.NeuralSplineCoupling, NumberOfLayers = 2, HiddenUnits = 8 };
            float[] Parameters(long globalSeed, out float[] nextGlobal)
            {
                manual_seed(globalSeed);
                using NormalizingFlow flow = FlowFactory.Create(3, architecture, seed: 11);
                using (NewDisposeScope()) nextGlobal = randn(4).data<float>().ToArray();
                using (NewDisposeScope()) return flow.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();
            }
            float[] a = Parameters(1, out float[] nextA), b = Parameters(2, out _);
            CollectionAssert.AreEqual(a, b, "the flow does not depend on the global generator's state");
            manual_seed(1);
            float[] untouched;
            using (NewDisposeScope()) untouched = randn(4).data<float>().ToArray();
            CollectionAssert.AreEqual(untouched, nextA, "building the flow drew nothing from the global generator");
            Assert.IsTrue(a.Any(v => v != 0), "the flow has random (nonzero) parameters");
        }

        [TestMethod]
        public void ConditionerParametersAreWhatTorchSharpLinearLayersDrawFromTheSeed()
        {
            // The reference: TorchSharp's own Linear layers on the global generator seeded alike (the zero last layer
            // of the first network draws too, so the second network's draws follow the same stream).
            manual_seed(5);
            using var a = nn.Linear(7, 16);
            using var b = nn.Linear(16, 9);
            using var c = nn.Linear(4, 8);
            float[] expected = new[] { a.weight, a.bias!, c.weight, c.bias! }.SelectMany(t => t.data<float>().ToArray()).ToArray();
            float[] actual;
            using (ParameterInitialization.Seeded(5))
            {
                using var first = new Conditioners.MultilayerPerceptron(7, 9, 16, 1);
                using var second = new Conditioners.MultilayerPerceptron(4, 2, 8, 1);
                TorchSharp.Modules.Parameter[] p = first.parameters().ToArray(), q = second.parameters().ToArray();
                Assert.AreEqual(0f, p[2].abs().sum().item<float>() + p[3].abs().sum().item<float>(), "the last layer starts at zero");
                actual = new[] { p[0], p[1], q[0], q[1] }.SelectMany(t => t.data<float>().ToArray()).ToArray();
            }
            CollectionAssert.AreEqual(expected, actual);
        }

        [TestMethod]
        public void TransformReadFromEightThreadsAtOnceEqualsASingleThreadedRead()
        {
            var ml = new MLContext(seed: 0);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(Options()).Fit(Rows.ToDataView(ml, Synthetic.TwoMoons(600, 0.1, 1), 2));
            IDataView scored = model.Transform(Rows.ToDataView(ml, Synthetic.TwoMoons(20_000, 0.1, 3), 2));
            float[] single = Rows.LogDensities(scored);
            float[][] parallel = Enumerable.Range(0, 8).Select(_ => Task.Run(() => Rows.LogDensities(scored))).ToArray().Select(t => t.Result).ToArray();
            for (int i = 0; i < parallel.Length; i++) CollectionAssert.AreEqual(single, parallel[i], $"reader {i}");
        }
    }
}
