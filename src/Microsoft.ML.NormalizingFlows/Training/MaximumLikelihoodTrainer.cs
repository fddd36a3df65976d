using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>
    /// Fits a flow by maximum likelihood (forward KL): mini-batch Adam on <c>-mean log p(x)</c> over shuffled training
    /// rows, with gradient-norm clipping, a divergence guard, per-epoch validation, early stopping and restore of the
    /// best parameters.
    /// </summary>
    public static class MaximumLikelihoodTrainer
    {
        private const int EvaluationBatchSize = 8192;

        /// <summary>Trains <paramref name="flow"/> in place.</summary>
        /// <param name="flow">The flow to train; its parameters change.</param>
        /// <param name="train">Training rows <c>[N, d]</c> of the flow's element type.</param>
        /// <param name="validation">Validation rows <c>[M, d]</c>, or <c>null</c> for none (then no early stopping and the last parameters are kept).</param>
        /// <param name="options">The settings; validated first.</param>
        /// <returns>The history of the fit.</returns>
        /// <exception cref="TrainingDivergedException">The loss or the gradient norm turned NaN or infinite.</exception>
        /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
        public static TrainingHistory Fit(NormalizingFlow flow, Tensor train, Tensor? validation, MaximumLikelihoodOptions options)
        {
            ArgumentNullException.ThrowIfNull(flow);
            ArgumentNullException.ThrowIfNull(train);
            CheckRows(train, flow.Dimension, nameof(train));
            return Fit(flow, rows => flow.LogDensity(rows), train, validation, options, dequantizationMask: null);
        }

        /// <summary>Trains a conditional flow in place on data rows and their context rows.</summary>
        /// <param name="model">The conditional flow to train; its parameters change.</param>
        /// <param name="train">Training rows <c>[N, d]</c> of the flow's element type.</param>
        /// <param name="trainContext">Their context rows <c>[N, k]</c>.</param>
        /// <param name="validation">Validation rows <c>[M, d]</c>, or <c>null</c> for none.</param>
        /// <param name="validationContext">Their context rows <c>[M, k]</c>, or <c>null</c> without validation rows.</param>
        /// <param name="options">The settings; validated first.</param>
        /// <returns>The history of the fit.</returns>
        /// <exception cref="TrainingDivergedException">The loss or the gradient norm turned NaN or infinite.</exception>
        public static TrainingHistory Fit(ConditionalNormalizingFlow model, Tensor train, Tensor trainContext, Tensor? validation, Tensor? validationContext, MaximumLikelihoodOptions options)
        {
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(train);
            ArgumentNullException.ThrowIfNull(trainContext);
            CheckRows(train, model.Dimension, nameof(train));
            CheckRows(trainContext, model.ContextDimension, nameof(trainContext));
            if ((validation is null) != (validationContext is null))
                throw new ArgumentException("Give validation rows and their context rows together, or neither.", nameof(validationContext));
            using var scope = NewDisposeScope();
            return Fit(model, ConditionalLogDensity(model), cat(new[] { train, trainContext }, 1),
                validation is null ? null : cat(new[] { validation, validationContext! }, 1), options, dequantizationMask: null);
        }

        /// <summary>The log-density of rows that hold the data values followed by the context values.</summary>
        internal static Func<Tensor, Tensor> ConditionalLogDensity(ConditionalNormalizingFlow model) =>
            rows => model.LogDensity(rows.narrow(1, 0, model.Dimension), rows.narrow(1, model.Dimension, model.ContextDimension));

        /// <summary>
        /// The fit behind both public overloads. <paramref name="logDensity"/> maps a batch of <paramref name="train"/> rows
        /// to log-densities; <paramref name="dequantizationMask"/> (1 at integer-valued slots, 0 elsewhere) adds fresh
        /// uniform [0, 1) noise to those slots of every training batch (uniform dequantization).
        /// </summary>
        internal static TrainingHistory Fit(
            nn.Module model, Func<Tensor, Tensor> logDensity, Tensor train, Tensor? validation, MaximumLikelihoodOptions options, Tensor? dequantizationMask)
        {
            if (train.dim() != 2 || train.shape[0] < 1)
                throw new ArgumentException($"Training rows must have shape [N, width] with N >= 1; got [{string.Join(", ", train.shape)}].", nameof(train));
            return Fit(model, logDensity, new TensorBatches(train, validation), options, dequantizationMask);
        }

        /// <summary>The fit over any source of batches (rows in tensors, or streamed from an IDataView).</summary>
        internal static TrainingHistory Fit(
            nn.Module model, Func<Tensor, Tensor> logDensity, ITrainingBatches batches, MaximumLikelihoodOptions options, Tensor? dequantizationMask)
        {
            ArgumentNullException.ThrowIfNull(options);
            options.Validate();
            bool hasValidation = batches.HasValidation;

            // Every tensor the fit makes (optimizer state, snapshots, handles returned by in-place ops) lives in this scope.
            using var fitScope = NewDisposeScope();
            using TorchThreads threads = TorchThreads.Use(options.NumberOfThreads);
            Parameter[] parameters = model.parameters().ToArray();
            using var optimizer = optim.Adam(parameters, options.LearningRate);
            using Generator generator = new Generator().manual_seed(options.Seed);

            long rows = batches.TrainingRows;
            long stepsPerEpoch = (rows + options.BatchSize - 1) / options.BatchSize;
            var scheduler = StepGuards.Scheduler(optimizer, options.Schedule, options.LearningRate, stepsPerEpoch * options.MaxEpochs);
            long steps = 0;
            var epochs = new List<TrainingProgress>();
            double bestValidation = double.NegativeInfinity;
            int bestEpoch = 0, epochsWithoutImprovement = 0;
            bool stoppedEarly = false;
            Tensor[]? bestParameters = null;
            try
            {
                model.train();
                for (int epoch = 1; epoch <= options.MaxEpochs; epoch++)
                {
                    double lossSum = 0;
                    long seen = 0;
                    foreach (Tensor batch in batches.Epoch(epoch, options.BatchSize, generator))
                    {
                        using (batch)
                        {
                            options.CancellationToken.ThrowIfCancellationRequested();
                            long count = batch.shape[0];
                            steps++;
                            double loss = Step(logDensity, optimizer, parameters, batch, options, epoch, steps, dequantizationMask, generator);
                            scheduler?.step();
                            if (steps % NativeHeap.StepsBetweenTrims == 0) NativeHeap.Trim();
                            lossSum += loss * count;
                            seen += count;
                        }
                    }

                    double validationLogLikelihood = hasValidation ? MeanLogDensity(logDensity, batches.Validation(EvaluationBatchSize)) : double.NaN;
                    if (hasValidation && !double.IsFinite(validationLogLikelihood))
                        throw new TrainingDivergedException(epoch, steps, "validation log-likelihood", validationLogLikelihood);
                    bool isBest = hasValidation && validationLogLikelihood > bestValidation;
                    if (isBest || !hasValidation)
                    {
                        bestValidation = validationLogLikelihood;
                        bestEpoch = epoch;
                        epochsWithoutImprovement = 0;
                        if (hasValidation) bestParameters = Snapshot(parameters, bestParameters);
                    }
                    else
                    {
                        epochsWithoutImprovement++;
                    }

                    var progress = new TrainingProgress(epoch, options.MaxEpochs, steps, -lossSum / seen, validationLogLikelihood, isBest);
                    epochs.Add(progress);
                    options.Progress?.Report(progress);
                    options.Log?.Invoke(progress.ToString());

                    if (hasValidation && options.EarlyStoppingPatience > 0 && epochsWithoutImprovement >= options.EarlyStoppingPatience)
                    {
                        stoppedEarly = epoch < options.MaxEpochs;
                        break;
                    }
                }

                if (bestParameters is not null) Restore(parameters, bestParameters);
            }
            finally
            {
                model.eval();
            }

            var history = new TrainingHistory(epochs, bestEpoch, stoppedEarly);
            options.Log?.Invoke(!hasValidation
                ? $"finished after {epochs.Count} epochs ({steps} steps): train log-likelihood {history.FinalTrainLogLikelihood:F4}"
                : $"finished after {epochs.Count} epochs ({steps} steps){(stoppedEarly ? ", stopped early" : "")}: kept epoch {bestEpoch}, validation log-likelihood {history.BestValidationLogLikelihood:F4}");
            return history;
        }

        /// <summary>The mean log-density of <paramref name="rows"/> under the flow, evaluated in batches without gradients.</summary>
        /// <param name="flow">The flow.</param>
        /// <param name="rows">Rows <c>[N, d]</c>.</param>
        /// <returns>The mean natural-log density per row.</returns>
        public static double MeanLogDensity(NormalizingFlow flow, Tensor rows)
        {
            ArgumentNullException.ThrowIfNull(flow);
            ArgumentNullException.ThrowIfNull(rows);
            return MeanLogDensity(batch => flow.LogDensity(batch), new TensorBatches(rows, rows).Validation(EvaluationBatchSize));
        }

        private static double MeanLogDensity(Func<Tensor, Tensor> logDensity, IEnumerable<Tensor> batches)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            double sum = 0;
            long count = 0;
            foreach (Tensor batch in batches)
            {
                using var step = NewDisposeScope();
                sum += logDensity(batch).sum().to_type(ScalarType.Float64).item<double>();
                count += batch.shape[0];
            }
            return sum / count;
        }

        // One optimizer step on a batch inside its own dispose scope; returns the batch loss.
        private static double Step(
            Func<Tensor, Tensor> logDensityOf, OptimizerHelper optimizer, Parameter[] parameters, Tensor batch,
            MaximumLikelihoodOptions options, int epoch, long step, Tensor? dequantizationMask, Generator generator)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            long count = batch.shape[0];
            if (dequantizationMask is not null)
                batch = batch + rand(batch.shape, dtype: batch.dtype, generator: generator) * dequantizationMask;
            Tensor logDensity = logDensityOf(batch);
            long kept = (long)Math.Ceiling((1 - options.TrimFraction) * count);
            if (kept < count) logDensity = logDensity.topk((int)kept).values; // the trimmed likelihood keeps the best-explained rows
            Tensor loss = logDensity.mean().neg();
            double lossValue = StepGuards.CheckedLoss(loss, epoch, step);
            loss.backward();
            StepGuards.ClipAndCheck(parameters, options.GradientClipNorm, epoch, step);
            optimizer.step();
            return lossValue;
        }

        private static void CheckRows(Tensor rows, int width, string name)
        {
            if (rows.dim() != 2 || rows.shape[0] < 1 || rows.shape[1] != width)
                throw new ArgumentException($"Rows must have shape [N, {width}] with N >= 1; got [{string.Join(", ", rows.shape)}].", name);
        }

        private static Tensor[] Snapshot(Parameter[] parameters, Tensor[]? previous)
        {
            if (previous is not null)
                foreach (Tensor t in previous) t.Dispose();
            using var noGrad = no_grad();
            return parameters.Select(p => p.clone()).ToArray();
        }

        private static void Restore(Parameter[] parameters, Tensor[] values)
        {
            using var noGrad = no_grad();
            for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(values[i]);
        }
    }
}
