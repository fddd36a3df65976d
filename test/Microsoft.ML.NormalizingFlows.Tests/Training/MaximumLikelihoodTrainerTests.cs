using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Training
{
    [TestClass]
    public sealed class MaximumLikelihoodTrainerTests
    {
        internal static (NormalizingFlow Flow, Tensor Train, Tensor Validation) MoonsSetup(int seed)
        {
            float[] values = Synthetic.TwoMoons(1200, 0.1, seed);
            Tensor all = tensor(values, new long[] { 1200, 2 });
            Tensor train = all.narrow(0, 0, 1000);
            Tensor validation = all.narrow(0, 1000, 200);
            NormalizingFlow flow = FlowFactory.RealNvp(2, 4, 32, 2, 3.0, false, seed,
                new Standardization(new[] { 0.5, 0.25 }, new[] { 0.87, 0.5 }));
            return (flow, train, validation);
        }

        [TestMethod]
        public void EarlyStoppingKeepsTheBestValidationReport()
        {
            using var scope = NewDisposeScope();
            (NormalizingFlow flow, Tensor train, Tensor validation) = MoonsSetup(3);
            using (flow)
            {
                // Few training rows and a high learning rate overfit quickly, so validation stops improving (2 steps per epoch).
                TrainingHistory history = MaximumLikelihoodTrainer.Fit(flow, train.narrow(0, 0, 60), validation,
                    new MaximumLikelihoodOptions { MaxEpochs = 400, BatchSize = 30, LearningRate = 1e-2, EarlyStoppingPatience = 10, Seed = 1 });
                Assert.IsTrue(history.StoppedEarly, $"ran {history.Epochs.Count} epochs without stopping early");
                Assert.AreEqual(history.Epochs.Max(e => e.ValidationLogLikelihood), history.BestValidationLogLikelihood);
                double now = MaximumLikelihoodTrainer.MeanLogDensity(flow, validation);
                Assert.AreEqual(history.BestValidationLogLikelihood, now, 1e-5, "the best epoch's parameters were not restored");
                Assert.AreEqual(history.BestStep + 10, history.Epochs[^1].Steps, "patience is counted in steps");
                Assert.AreEqual(history.BestEpoch + 5, history.Epochs.Count);
            }
        }

        [TestMethod]
        public void TrainingRaisesTheLikelihoodOfHeldOutRows()
        {
            using var scope = NewDisposeScope();
            (NormalizingFlow flow, Tensor train, Tensor validation) = MoonsSetup(4);
            using (flow)
            {
                double before = MaximumLikelihoodTrainer.MeanLogDensity(flow, validation);
                TrainingHistory history = MaximumLikelihoodTrainer.Fit(flow, train, validation,
                    new MaximumLikelihoodOptions { MaxEpochs = 30, BatchSize = 128, LearningRate = 5e-3, Seed = 2 });
                Assert.IsTrue(history.BestValidationLogLikelihood > before + 0.5,
                    $"validation log-likelihood went from {before} to {history.BestValidationLogLikelihood}");
            }
        }

        [TestMethod]
        public void ANonFiniteLossStopsTrainingNamingTheStep()
        {
            // y = w x with log|det| = d log(w): unscaled data (values ~1000) push w below zero after Adam's first step of
            // size 1, so the second step's loss is NaN.
            // Weights are not restored and no model is returned.
            using var scope = NewDisposeScope();
            using var flow = new NormalizingFlow(new StandardNormal(2), new FlowLayer[] { new UnsafeScale(2) });
            Tensor data = randn(64, 2, generator: new Generator().manual_seed(0)) * 1000;
            var e = Assert.ThrowsExactly<TrainingDivergedException>(() => MaximumLikelihoodTrainer.Fit(flow, data, null,
                new MaximumLikelihoodOptions { MaxEpochs = 5, BatchSize = 64, LearningRate = 1, Seed = 0 }));
            Assert.AreEqual(2, e.Epoch); // one step per epoch: the batch holds every row
            Assert.AreEqual(2, e.Step);
            StringAssert.Contains(e.Message, "epoch 2, step 2");
            StringAssert.Contains(e.Message, "LearningRate");
        }

        [TestMethod]
        public void AUserLayerTrainsToTheMaximumLikelihoodGaussian()
        {
            // A flow of one ElementwiseAffine layer is N(shift, diag(exp(2 logScale))): its maximum-likelihood fit is the
            // sample mean and the (biased) sample standard deviation.
            using var scope = NewDisposeScope();
            using var flow = new NormalizingFlow(new StandardNormal(2), new FlowLayer[] { new Tests.Core.ElementwiseAffine(2) });
            Tensor data = randn(4000, 2, generator: new Generator().manual_seed(3)) * tensor(new[] { 3f, 0.2f }) + tensor(new[] { -4f, 10f });
            // The trained parameters themselves (no averaging): an average over the last ~100 steps lags a fit still converging.
            MaximumLikelihoodTrainer.Fit(flow, data, null, new MaximumLikelihoodOptions
            {
                MaxEpochs = 800, BatchSize = 4000, LearningRate = 0.05, Schedule = LearningRateSchedule.Constant, AverageDecay = 0,
            });
            var named = flow.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            float[] shift = named.Single(p => p.Key.EndsWith("shift")).Value.data<float>().ToArray();
            float[] scale = named.Single(p => p.Key.EndsWith("logScale")).Value.exp().data<float>().ToArray();
            float[] mean = data.mean(new long[] { 0 }).data<float>().ToArray();
            float[] sd = data.std(0, unbiased: false).data<float>().ToArray();
            for (int j = 0; j < 2; j++)
            {
                Assert.AreEqual(mean[j], shift[j], 0.01 * sd[j], $"shift {j}");
                Assert.AreEqual(sd[j], scale[j], 0.01 * sd[j], $"scale {j}");
            }
        }

        [TestMethod]
        public void CancellationStopsTraining()
        {
            using var scope = NewDisposeScope();
            (NormalizingFlow flow, Tensor train, Tensor validation) = MoonsSetup(5);
            using (flow)
            using (var cancel = new CancellationTokenSource())
            {
                var options = new MaximumLikelihoodOptions
                {
                    MaxEpochs = 1000,
                    CancellationToken = cancel.Token,
                    Progress = new SynchronousProgress(p => { if (p.Epoch == 2) cancel.Cancel(); }),
                };
                Assert.ThrowsExactly<OperationCanceledException>(() => MaximumLikelihoodTrainer.Fit(flow, train, validation, options));
            }
        }

        [TestMethod]
        public void InvalidOptionsNameTheOption()
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MaximumLikelihoodOptions { BatchSize = 0 }.Validate());
            Assert.AreEqual("BatchSize", e.ParamName);
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MaximumLikelihoodOptions { LearningRate = double.NaN }.Validate());
            Assert.AreEqual("LearningRate", e.ParamName);
            e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MaximumLikelihoodOptions { NumberOfThreads = 0 }.Validate());
            Assert.AreEqual("NumberOfThreads", e.ParamName);
        }

        [TestMethod]
        public void TrainingStepsLeaveNoLiveTensorsBehind()
        {
            using var scope = NewDisposeScope();
            (NormalizingFlow flow, Tensor train, Tensor validation) = MoonsSetup(6);
            using (flow)
            {
                var options = new MaximumLikelihoodOptions { MaxEpochs = 2, BatchSize = 100, Seed = 0 };
                MaximumLikelihoodTrainer.Fit(flow, train, validation, options); // warm-up: optimizer state, caches
                long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                options.MaxEpochs = 20;
                MaximumLikelihoodTrainer.Fit(flow, train, validation, options); // 200 steps
                long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                Assert.AreEqual(before, after, "live tensors grew over 200 training steps");
            }
        }

        /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
        private sealed class SynchronousProgress : IProgress<TrainingProgress>
        {
            private readonly Action<TrainingProgress> action;

            public SynchronousProgress(Action<TrainingProgress> action) => this.action = action;

            public void Report(TrainingProgress value) => action(value);
        }

        /// <summary>A deliberately unsafe layer: its log-determinant is log(w), not log|w|.</summary>
        private sealed class UnsafeScale : FlowLayer
        {
            private readonly Parameter w;

            public UnsafeScale(int d) : base(nameof(UnsafeScale), d)
            {
                w = new Parameter(tensor(0.5f));
                RegisterComponents();
            }

            public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) =>
                (input * w, (w.log() * Dimension).expand(input.shape[0]));

            public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input) =>
                (input / w, (w.log() * -Dimension).expand(input.shape[0]));
        }
    }
}
