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
            using OptimizerHelper optimizer = options.WeightDecay > 0
                ? optim.AdamW(parameters, options.LearningRate, weight_decay: options.WeightDecay)
                : optim.Adam(parameters, options.LearningRate);
            using Generator generator = new Generator().manual_seed(options.Seed);

            long rows = batches.TrainingRows;
            long stepsPerEpoch = (rows + options.BatchSize - 1) / options.BatchSize;
            long budget = Math.Min(options.MaxSteps ?? long.MaxValue, stepsPerEpoch * options.MaxEpochs);
            long interval = options.ValidationInterval > 0 ? options.ValidationInterval : stepsPerEpoch;
            long patience = options.EarlyStoppingPatience ?? Math.Max(10 * interval, budget / 4);
            var plan = new LearningRatePlan(options.Schedule, options.LearningRate, options.WarmupSteps, budget);
            ParameterAverage? average = options.AverageDecay > 0 ? new ParameterAverage(parameters, options.AverageDecay) : null;
            var clock = System.Diagnostics.Stopwatch.StartNew();

            long steps = 0, bestStep = 0;
            var reports = new List<TrainingProgress>();
            double bestValidation = double.NegativeInfinity;
            int bestReport = -1;
            string? stopReason = null;
            Tensor[]? bestParameters = null;
            double lossSum = 0;
            long seen = 0;

            // Validates (the averaged parameters when averaging), keeps the best, reports; returns whether patience ran out.
            bool Report(int epoch)
            {
                double validationLogLikelihood = !hasValidation ? double.NaN
                    : average is null ? MeanLogDensity(logDensity, batches.Validation(EvaluationBatchSize))
                    : average.WithAverage(() => MeanLogDensity(logDensity, batches.Validation(EvaluationBatchSize)));
                if (hasValidation && !double.IsFinite(validationLogLikelihood))
                    throw new TrainingDivergedException(epoch, steps, "validation log-likelihood", validationLogLikelihood);
                bool isBest = hasValidation && validationLogLikelihood > bestValidation;
                if (isBest || !hasValidation)
                {
                    bestValidation = validationLogLikelihood;
                    bestReport = reports.Count;
                    bestStep = steps;
                    if (hasValidation) bestParameters = Snapshot(average?.Values ?? parameters, bestParameters);
                }
                plan.Observe(isBest);
                var progress = new TrainingProgress(epoch, options.MaxEpochs, steps, seen == 0 ? double.NaN : -lossSum / seen, validationLogLikelihood, isBest);
                (lossSum, seen) = (0, 0);
                reports.Add(progress);
                options.Progress?.Report(progress);
                options.Log?.Invoke(progress.ToString());
                return hasValidation && patience > 0 && steps - bestStep >= patience;
            }

            int lastEpoch = 0;
            try
            {
                model.train();
                for (int epoch = 1; epoch <= options.MaxEpochs && stopReason is null; epoch++)
                {
                    lastEpoch = epoch;
                    foreach (Tensor batch in batches.Epoch(epoch, options.BatchSize, generator))
                    {
                        using (batch)
                        {
                            options.CancellationToken.ThrowIfCancellationRequested();
                            long count = batch.shape[0];
                            foreach (var group in optimizer.ParamGroups) group.LearningRate = plan.At(steps);
                            steps++;
                            double loss = Step(logDensity, optimizer, parameters, batch, options, epoch, steps, dequantizationMask, generator);
                            average?.Update(steps);
                            if (options.TrimNativeMemory && steps % NativeHeap.StepsBetweenTrims == 0) NativeHeap.Trim();
                            lossSum += loss * count;
                            seen += count;
                        }
                        bool last = steps >= budget || (options.TimeBudget is TimeSpan time && clock.Elapsed >= time);
                        if (options.ValidationInterval > 0 && (steps % interval == 0 || last) && Report(epoch))
                            stopReason = "stopped early";
                        if (last) stopReason ??= steps >= budget ? "reached the step budget" : "reached the time budget";
                        if (stopReason is not null) break;
                    }
                    if (options.ValidationInterval == 0 && Report(epoch) && epoch < options.MaxEpochs) stopReason ??= "stopped early";
                }
                // Streamed epochs can hold fewer steps than the budget assumed: the steps since the last report get one too.
                if (reports.Count == 0 || reports[^1].Steps != steps) Report(lastEpoch);

                if (bestParameters is not null) Restore(parameters, bestParameters);
                else if (average is not null) Restore(parameters, average.Values);
            }
            finally
            {
                model.eval();
            }

            bool stoppedEarly = stopReason is "stopped early" or "reached the time budget" && steps < budget;
            var history = new TrainingHistory(reports, Math.Max(bestReport, 0), stoppedEarly);
            string ending = $"finished after {steps} steps ({reports[^1].Epoch} epochs{(stopReason is null or "reached the step budget" ? "" : ", " + stopReason)})";
            options.Log?.Invoke(!hasValidation
                ? $"{ending}: train log-likelihood {history.FinalTrainLogLikelihood:F4}"
                : $"{ending}: kept step {bestStep} (epoch {history.BestEpoch}), validation log-likelihood {history.BestValidationLogLikelihood:F4}");
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

        private static Tensor[] Snapshot(IReadOnlyList<Tensor> parameters, Tensor[]? previous)
        {
            if (previous is not null)
                foreach (Tensor t in previous) t.Dispose();
            using var noGrad = no_grad();
            return parameters.Select(p => p.clone()).ToArray();
        }

        private static void Restore(Parameter[] parameters, IReadOnlyList<Tensor> values)
        {
            using var noGrad = no_grad();
            for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(values[i]);
        }
    }
}
