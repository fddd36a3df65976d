using Microsoft.ML.NormalizingFlows.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>
    /// Fits a flow q to a target given by its unnormalized log-density (variational inference): Adam on an objective
    /// (<see cref="Elbo"/> with a chosen <see cref="GradientEstimator"/>, <see cref="RenyiAlphaDivergence"/>, or your own
    /// <see cref="IVariationalObjective"/>) estimated from fresh draws of q at every step. Independent of ML.NET.
    /// </summary>
    /// <example>
    /// <code language="csharp">
    /// var target = Targets.Banana();
    /// using NormalizingFlow q = FlowFactory.Create(2, new FlowArchitecture { Preset = FlowPreset.NeuralSplineCoupling }, seed: 0);
    /// VariationalHistory history = VariationalInference.Fit(q, target.LogDensity, new Elbo(GradientEstimator.StickingTheLanding),
    ///     new VariationalInferenceOptions { Iterations = 3000, SamplesPerStep = 128, LearningRate = 2e-3 });
    /// VariationalReport report = VariationalDiagnostics.Evaluate(q, target.LogDensity, samples: 10000, seed: 1);
    /// Console.WriteLine($"ELBO {report.Elbo:F3} ± {report.ElboStandardError:F3}, log Z ≈ {report.LogNormalizer:F3}, k-hat {report.ParetoK:F2}");
    /// </code>
    /// </example>
    public static class VariationalInference
    {
        /// <summary>Trains <paramref name="flow"/> in place.</summary>
        /// <param name="flow">The flow q; its parameters change.</param>
        /// <param name="logTarget">The target's unnormalized log-density, <c>[N, d]</c> to <c>[N]</c>, differentiable through autograd.</param>
        /// <param name="objective">The objective and gradient estimator.</param>
        /// <param name="options">The settings; validated first.</param>
        /// <returns>The reports.</returns>
        /// <exception cref="TrainingDivergedException">The loss or the gradient norm turned NaN or infinite.</exception>
        public static VariationalHistory Fit(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, IVariationalObjective objective, VariationalInferenceOptions options)
        {
            ArgumentNullException.ThrowIfNull(flow);
            ArgumentNullException.ThrowIfNull(logTarget);
            ArgumentNullException.ThrowIfNull(objective);
            ArgumentNullException.ThrowIfNull(options);
            options.Validate();

            using var fitScope = NewDisposeScope();
            using TorchThreads threads = TorchThreads.Use(options.NumberOfThreads);
            Parameter[] parameters = flow.parameters().ToArray();
            using var optimizer = optim.Adam(parameters, options.LearningRate);
            var scheduler = StepGuards.Scheduler(optimizer, options.Schedule, options.LearningRate, options.Iterations);
            using Generator generator = new Generator().manual_seed(options.Seed);
            var reports = new List<VariationalProgress>();
            double elboSum = 0, lossSum = 0;
            int window = 0;
            flow.train();
            try
            {
                for (int iteration = 1; iteration <= options.Iterations; iteration++)
                {
                    options.CancellationToken.ThrowIfCancellationRequested();
                    (double loss, double elbo) = Step(flow, logTarget, objective, optimizer, parameters, options, generator, iteration);
                    scheduler?.step();
                    lossSum += loss;
                    elboSum += elbo;
                    window++;
                    if (iteration % options.ReportEvery != 0 && iteration != options.Iterations) continue;
                    var progress = new VariationalProgress(iteration, options.Iterations, elboSum / window, lossSum / window);
                    reports.Add(progress);
                    (elboSum, lossSum, window) = (0, 0, 0);
                    options.Progress?.Report(progress);
                    options.Log?.Invoke($"{objective.Name}: {progress}");
                    if (options.StopWhen?.Invoke(progress) == true) return new VariationalHistory(reports, StoppedEarly: iteration < options.Iterations);
                }
            }
            finally
            {
                flow.eval();
            }
            return new VariationalHistory(reports, StoppedEarly: false);
        }

        private static (double Loss, double Elbo) Step(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, IVariationalObjective objective,
            OptimizerHelper optimizer, Parameter[] parameters, VariationalInferenceOptions options, Generator generator, int iteration)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (Tensor loss, Tensor logWeights) = objective.Loss(flow, logTarget, options.SamplesPerStep, generator);
            double lossValue = StepGuards.CheckedLoss(loss, 1, iteration, "variational loss");
            loss.backward();
            StepGuards.ClipAndCheck(parameters, options.GradientClipNorm, 1, iteration);
            optimizer.step();
            return (lossValue, logWeights.mean().to_type(ScalarType.Float64).item<double>());
        }
    }
}
