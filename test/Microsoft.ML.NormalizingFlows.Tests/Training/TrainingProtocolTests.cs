using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Training
{
    /// <summary>The training protocol: the learning-rate plan, validation every N steps, patience in steps, step and time budgets, averaging, weight decay.</summary>
    [TestClass]
    public sealed class TrainingProtocolTests
    {
        [TestMethod]
        public void WarmUpRisesLinearlyThenCosineAnnealsToOnePercentAtTheBudget()
        {
            var plan = new LearningRatePlan(LearningRateSchedule.Cosine, 0.1, warmupSteps: 10, budget: 110);
            Assert.AreEqual(0.01, plan.At(0), 1e-15, "first warm-up step: 1/10 of the rate");
            Assert.AreEqual(0.05, plan.At(4), 1e-15);
            Assert.AreEqual(0.1, plan.At(10), 1e-15, "the rate itself when the warm-up ends");
            Assert.AreEqual(0.001 + 0.099 * 0.5, plan.At(60), 1e-15, "half way through the cosine");
            Assert.AreEqual(0.001, plan.At(110), 1e-15, "1% at the budget");
            var constant = new LearningRatePlan(LearningRateSchedule.Constant, 0.1, warmupSteps: 0, budget: 50);
            Assert.AreEqual(0.1, constant.At(0));
            Assert.AreEqual(0.1, constant.At(49));
        }

        [TestMethod]
        public void ThePlateauScheduleHalvesAfterThreeReportsWithoutImprovementDownToOnePercent()
        {
            var plan = new LearningRatePlan(LearningRateSchedule.ReduceOnPlateau, 0.08, warmupSteps: 0, budget: 1000);
            plan.Observe(improved: true);
            plan.Observe(improved: false);
            plan.Observe(improved: false);
            Assert.AreEqual(0.08, plan.At(5), "two reports without improvement keep the rate");
            plan.Observe(improved: true);
            for (int i = 0; i < 3; i++) plan.Observe(improved: false);
            Assert.AreEqual(0.04, plan.At(5), "the third report in a row halves it");
            for (int i = 0; i < 3 * 20; i++) plan.Observe(improved: false);
            Assert.AreEqual(0.0008, plan.At(5), 1e-18, "never below 1% of the rate");
        }

        [TestMethod]
        public void ValidationEveryNStepsWithPatienceInSteps()
        {
            using var scope = NewDisposeScope();
            (NormalizingFlow flow, Tensor train, Tensor validation) = Moons(6);
            using (flow)
            {
                TrainingHistory history = MaximumLikelihoodTrainer.Fit(flow, train.narrow(0, 0, 90), validation, new MaximumLikelihoodOptions
                {
                    MaxEpochs = 400, BatchSize = 30, LearningRate = 1e-2, ValidationInterval = 4, EarlyStoppingPatience = 12, Seed = 1,
                });
                Assert.IsTrue(history.StoppedEarly);
                CollectionAssert.AreEqual(Enumerable.Range(1, history.Epochs.Count).Select(i => 4L * i).ToArray(), history.Epochs.Select(e => e.Steps).ToArray(),
                    "a report every 4 steps, across epochs of 3 steps");
                Assert.AreEqual(history.BestStep + 12, history.Epochs[^1].Steps, "stopped 12 steps after the best report");
                Assert.AreEqual(history.BestValidationLogLikelihood, MaximumLikelihoodTrainer.MeanLogDensity(flow, validation), 1e-5, "the best report's parameters are kept");
            }
        }

        [TestMethod]
        public void TheStepBudgetAndTheTimeBudgetEndTheFit()
        {
            using var scope = NewDisposeScope();
            (NormalizingFlow flow, Tensor train, Tensor validation) = Moons(7);
            using (flow)
            {
                TrainingHistory steps = MaximumLikelihoodTrainer.Fit(flow, train, validation,
                    new MaximumLikelihoodOptions { MaxEpochs = 100, MaxSteps = 7, BatchSize = 100, Seed = 1 });
                Assert.AreEqual(7, steps.Epochs[^1].Steps, "the step budget ends the fit within an epoch");
                Assert.AreEqual(1, steps.Epochs.Count, "with a report at its end");
                Assert.IsFalse(steps.StoppedEarly);

                TrainingHistory timed = MaximumLikelihoodTrainer.Fit(flow, train, validation,
                    new MaximumLikelihoodOptions { MaxEpochs = 100, BatchSize = 100, TimeBudget = TimeSpan.FromTicks(1), Seed = 1 });
                Assert.AreEqual(1, timed.Epochs[^1].Steps, "a budget already spent ends the fit after its first step");
                Assert.IsTrue(timed.StoppedEarly);
                Assert.IsTrue(double.IsFinite(timed.BestValidationLogLikelihood), "and validates what it keeps");
            }
        }

        [TestMethod]
        public void TheAverageFollowsItsWarmedUpDecay()
        {
            using var scope = NewDisposeScope();
            var parameter = new Parameter(tensor(new[] { 1.0 }));
            var average = new ParameterAverage(new[] { parameter }, decay: 0.5);
            average.Update(1); // starts from the parameter: 1
            using (no_grad()) parameter.fill_(3.0);
            average.Update(2); // decay min(0.5, 3/12) = 0.25: 0.25 * 1 + 0.75 * 3 = 2.5
            using (no_grad()) parameter.fill_(5.0);
            average.Update(20); // decay min(0.5, 21/30) = 0.5: 0.5 * 2.5 + 0.5 * 5 = 3.75
            Assert.AreEqual(3.75, average.Values[0].item<double>(), 1e-12);
            Assert.AreEqual(3.75, average.WithAverage(() => parameter.item<double>()), 1e-12, "the average is in the parameters while evaluating");
            Assert.AreEqual(5.0, parameter.item<double>(), "and the trained value comes back");
        }

        [TestMethod]
        public void AWeightDecayedAndAveragedFitKeepsSmallerWeightsAndStillLearns()
        {
            using var scope = NewDisposeScope();
            double Fit(double weightDecay, double averageDecay, out double validationLogLikelihood)
            {
                (NormalizingFlow flow, Tensor train, Tensor validation) = Moons(8);
                using (flow)
                {
                    double before = MaximumLikelihoodTrainer.MeanLogDensity(flow, validation);
                    TrainingHistory history = MaximumLikelihoodTrainer.Fit(flow, train, validation, new MaximumLikelihoodOptions
                    {
                        MaxEpochs = 15, BatchSize = 100, LearningRate = 5e-3, WeightDecay = weightDecay, AverageDecay = averageDecay, Seed = 3,
                    });
                    validationLogLikelihood = history.BestValidationLogLikelihood;
                    Assert.IsTrue(validationLogLikelihood > before + 0.5, $"learned: {before} to {validationLogLikelihood}");
                    using var noGrad = no_grad();
                    return flow.parameters().Sum(p => p.square().sum().item<float>());
                }
            }
            double plain = Fit(0, 0, out _);
            double decayed = Fit(0.5, 0.99, out _);
            Assert.IsTrue(decayed < 0.9 * plain, $"squared weight norm {decayed} with decay against {plain} without");
        }

        private static (NormalizingFlow Flow, Tensor Train, Tensor Validation) Moons(int seed) => MaximumLikelihoodTrainerTests.MoonsSetup(seed);
    }
}
