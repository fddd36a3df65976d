using Microsoft.ML.NormalizingFlows.Distributions;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Tabular;
using Microsoft.ML.NormalizingFlows.Training;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Fits a normalizing flow (a <see cref="FlowPreset"/>) by maximum likelihood to a vector-of-Single column. The fitted
    /// <see cref="NormalizingFlowTransformer"/> adds each row's log-density. A standardization learned from the training
    /// rows is the flow's first layer, so densities stay in the data's own units. Create it with
    /// <c>mlContext.Transforms.NormalizingFlow(...)</c>.
    /// </summary>
    public sealed partial class NormalizingFlowEstimator : IEstimator<NormalizingFlowTransformer>
    {
        private readonly IHostEnvironment environment;
        private readonly IHost host;
        private readonly Options options;

        /// <summary>Creates the estimator; <paramref name="options"/> are validated here.</summary>
        /// <param name="mlContext">The context whose log receives training progress.</param>
        /// <param name="options">The options.</param>
        public NormalizingFlowEstimator(MLContext mlContext, Options options)
            : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), options)
        {
        }

        internal NormalizingFlowEstimator(IHostEnvironment environment, Options options)
        {
            ArgumentNullException.ThrowIfNull(environment);
            ArgumentNullException.ThrowIfNull(options);
            options.Validate();
            this.environment = environment;
            host = environment.Register(nameof(NormalizingFlowEstimator));
            this.options = options;
        }

        /// <summary>The input schema shape plus the added columns; throws naming the feature column if it is missing or mistyped.</summary>
        /// <param name="inputSchema">The shape of the data the estimator will see.</param>
        /// <returns>The output shape.</returns>
        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            if (options.IsTabular) TabularSchema.Check(inputSchema, options.ToTabularSpec());
            else FeatureColumn.Check(inputSchema, options.FeatureColumnName);
            var columns = inputSchema.ToDictionary(c => c.Name);
            columns[options.LogDensityColumnName] = SchemaShapeColumns.Single(options.LogDensityColumnName);
            if (options.LatentColumnName is string latent) columns[latent] = SchemaShapeColumns.SingleVector(latent);
            if (options.ScoreColumnName is string score) columns[score] = SchemaShapeColumns.Single(score);
            if (options.SampleColumnName is string sample) columns[sample] = SchemaShapeColumns.SingleVector(sample);
            return new SchemaShape(columns.Values);
        }

        /// <summary>Reads the input columns, fits the flow and returns the fitted transformer.</summary>
        /// <param name="input">The training data.</param>
        /// <returns>The fitted transformer.</returns>
        /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of a type the flow cannot read.</exception>
        /// <exception cref="InvalidOperationException">No usable rows, too few rows for the split, a constant feature, or NaN/inf with <see cref="InvalidRowHandling.Throw"/>.</exception>
        /// <exception cref="TrainingDivergedException">The loss turned NaN or infinite.</exception>
        public NormalizingFlowTransformer Fit(IDataView input) => Fit(input, start: null, nameof(input));

        /// <summary>
        /// Trains further: a copy of <paramref name="start"/>'s flow (not the flow itself) is trained on <paramref name="input"/>
        /// with these options' training protocol (learning rate, schedule, budget, early stopping, seed for the split and
        /// the shuffling) and returned in a new transformer; <paramref name="start"/> is left as it is. The architecture,
        /// the base and the standardization are <paramref name="start"/>'s (the architecture options and <see cref="FlowPreset.Auto"/>'s
        /// comparison do not apply); the column names are these options'.
        /// </summary>
        /// <param name="input">The training data: a feature column with as many values as <paramref name="start"/>'s.</param>
        /// <param name="start">A fitted transformer over one feature vector column.</param>
        /// <returns>A new transformer.</returns>
        /// <exception cref="NotSupportedException">A flow over several columns or with a condition, on either side.</exception>
        /// <exception cref="ArgumentException">The feature column's size differs from <paramref name="start"/>'s.</exception>
        public NormalizingFlowTransformer Fit(IDataView input, NormalizingFlowTransformer start)
        {
            ArgumentNullException.ThrowIfNull(start);
            if (start.Tabular is not null || options.IsTabular)
                throw new NotSupportedException("Further training is available for flows over one feature vector column (FeatureColumnName); " +
                    "a flow over several columns or with a label or context is fitted anew with Fit(input).");
            ArgumentNullException.ThrowIfNull(input);
            int width = FeatureColumn.Find(input.Schema, options.FeatureColumnName).Size;
            if (width != start.Dimension)
                throw new ArgumentException($"Feature column '{options.FeatureColumnName}' has {width} values per row, but the flow to train further " +
                    $"was fitted on {start.Dimension}. Give it rows of the same width, or fit a new flow with Fit(input).", nameof(start));
            return Fit(input, start, nameof(input));
        }

        private NormalizingFlowTransformer Fit(IDataView input, NormalizingFlowTransformer? start, string inputName)
        {
            ArgumentNullException.ThrowIfNull(input, inputName);
            (int? gpuDeviceId, bool fallbackToCpu) = ScoringDevice();
            OnnxSessionFactory.CheckDevice(gpuDeviceId, fallbackToCpu);
            using IChannel channel = host.Start("Fitting a normalizing flow");
            TabularCodec? codec = null;
            long count;
            long skipped = 0;
            if (options.IsTabular)
            {
                (codec, count, skipped) = TabularSchema.Analyze(input, options.ToTabularSpec());
            }
            else
            {
                FeatureColumn.Find(input.Schema, options.FeatureColumnName);
                count = options.TrainingData == TrainingDataCache.Auto ? input.GetRowCount() ?? CountRows(input) : 0;
            }
            bool stream = options.TrainingData == TrainingDataCache.Stream || options.TrainingData == TrainingDataCache.Auto && count > options.ShuffleBufferSize;
            return stream ? FitStreaming(input, codec, start, channel) : FitInMemory(input, codec, start, count, skipped, channel);
        }

        private NormalizingFlowTransformer FitInMemory(IDataView input, TabularCodec? codec, NormalizingFlowTransformer? start, long count, long skipped, IChannel channel)
        {
            TrainingRows rows = codec is null ? TrainingRows.Read(input, options.FeatureColumnName, options.InvalidRows) : TrainingRows.Read(input, codec, count);
            if (codec is null) skipped = rows.Skipped;
            if (skipped > 0)
                channel.Info(MessageSensitivity.None, $"Left out {skipped} rows holding NaN or an infinity.");
            (int[] train, int[] validation) = Split(rows.Count);
            float[] integerMask = codec?.IntegerMask() ?? new float[rows.Dimension];
            SlotStatistics statistics = Statistics(rows, train, integerMask, codec?.DataSlotNames(), channel);
            channel.Info(MessageSensitivity.None, $"Fitting a flow of dimension {rows.Dimension} on {train.Length} rows ({validation.Length} for validation)" +
                (rows.ContextWidth > 0 ? $", conditioned on {rows.ContextWidth} context values." : "."));

            ScalarType type = ElementType;
            using Tensor trainTensor = ToTensor(rows, train, type, midpoint: null);
            using Tensor? validationTensor = validation.Length > 0 ? ToTensor(rows, validation, type, integerMask) : null;
            using Tensor initRows = trainTensor.narrow(0, 0, Math.Min(trainTensor.shape[0], InitializationRows));
            return Train(input, codec, start, rows.Dimension, rows.ContextWidth, statistics, integerMask, new Training.TensorBatches(trainTensor, validationTensor), initRows, channel,
                logDensity =>
                {
                    float[] heldOut = validationTensor is null ? Array.Empty<float>() : LogDensities(logDensity, validationTensor);
                    for (int i = 0; i < heldOut.Length && rows.LogMass.Length > 0; i++) heldOut[i] = (float)(heldOut[i] + rows.LogMass[validation[i]]);
                    return _ => heldOut;
                });
        }

        private const int InitializationRows = 100_000;

        // The scoring device: the options' GpuDeviceId, else the MLContext's; a CPU fallback when either allows it.
        private (int? GpuDeviceId, bool FallbackToCpu) ScoringDevice()
        {
            (int? gpuDeviceId, bool fallbackToCpu) = CatalogEnvironment.DeviceSettings(environment);
            return (options.GpuDeviceId ?? gpuDeviceId, options.FallbackToCpu || fallbackToCpu);
        }

        private ScalarType ElementType => options.Precision == FlowPrecision.Double ? ScalarType.Float64 : ScalarType.Float32;

        // Fits the flow (the candidates Auto compares, then the chosen one; or a copy of start's flow), then wraps it in a
        // transformer. heldOut maps the trained log-density function to the held-out densities, computed before or after
        // the transformer exists.
        private NormalizingFlowTransformer Train(IDataView input, TabularCodec? codec, NormalizingFlowTransformer? start, int dimension, int contextWidth,
            SlotStatistics statistics, float[] integerMask, Training.ITrainingBatches batches, Tensor initRows, IChannel channel,
            Func<Func<Tensor, Tensor>, Func<NormalizingFlowTransformer, float[]>> heldOut)
        {
            var setup = new FitSetup(dimension, contextWidth, statistics, integerMask, batches, initRows, channel, start);
            (Options chosen, ModelChoice? choice) = options.Preset == FlowPreset.Auto && start is null ? ChooseModel(setup, codec is not null) : (options, null);
            FittedFlow fitted = FitFlow(chosen, setup, log: line => channel.Info(MessageSensitivity.None, line), chosen.Progress);
            try
            {
                var metadata = new FlowFileMetadata
                {
                    FeatureColumnName = options.FeatureColumnName,
                    LogDensityColumnName = options.LogDensityColumnName,
                    LatentColumnName = options.LatentColumnName,
                    ScoreColumnName = options.ScoreColumnName,
                    SampleColumnName = options.SampleColumnName,
                    SampleTemperature = options.SampleTemperature,
                    SampleSeed = options.SampleSeed,
                    FeatureNames = codec?.DataSlotNames() ?? FeatureColumn.SlotNames(input.Schema[options.FeatureColumnName], dimension),
                    TrainingHistory = choice is null ? fitted.History : fitted.History.WithChoice(choice),
                    Tabular = codec is null ? null : new TabularModel(codec, fitted.Conditional?.ExportParameters()).ToJson(),
                };
                Func<NormalizingFlowTransformer, float[]> heldOutOf = heldOut(fitted.LogDensity);
                fitted.Conditional?.ReleaseBase(); // the transformer keeps the flow; the base's parameters live on in the metadata
                NormalizingFlow flow = fitted.Flow;
                byte[] flowFile = ElementType == ScalarType.Float64 ? FlowOnnx.ExportDensityFloat64(flow, metadata) : FlowOnnx.ExportDensity(flow, metadata);
                (int? gpuDeviceId, bool fallbackToCpu) = ScoringDevice();
                var transformer = new NormalizingFlowTransformer(environment, flow, flowFile, metadata,
                    gpuDeviceId, fallbackToCpu, dimension, line => channel.Info(MessageSensitivity.None, line));
                transformer.HeldOutLogDensities = heldOutOf(transformer);
                return transformer;
            }
            catch
            {
                fitted.Dispose();
                throw;
            }
        }

        // What every candidate fit shares: the rows, their standardization, the log and, when training further, the
        // transformer whose flow a copy starts from.
        private sealed record FitSetup(int Dimension, int ContextWidth, SlotStatistics Statistics, float[] IntegerMask,
            Training.ITrainingBatches Batches, Tensor InitRows, IChannel Channel, NormalizingFlowTransformer? Start = null);

        // A trained flow (and its conditional wrapper when there is a context), its log-density function and its history.
        private sealed record FittedFlow(NormalizingFlow Flow, ConditionalNormalizingFlow? Conditional, Func<Tensor, Tensor> LogDensity, TrainingHistory History)
        {
            public void Dispose()
            {
                if (Conditional is null) Flow.Dispose();
                else Conditional.Dispose();
            }
        }

        // Builds the flow that the options describe (conditioned when there is a context), starts a mixture base from the
        // first rows' latents and the conditional base's means from the rows, and trains it on the batches. When training
        // further, a copy of the start's flow takes the built flow's place, as it is.
        private FittedFlow FitFlow(Options o, FitSetup setup, Action<string> log, IProgress<TrainingProgress>? progress)
        {
            (int dimension, int contextWidth) = (setup.Dimension, setup.ContextWidth);
            ScalarType type = ElementType;
            NormalizingFlow flow = setup.Start is null ? setup.Statistics.CreateFlow(o.ToArchitecture(), o.Seed, type, contextWidth) : setup.Start.CopyFlow();
            if (flow.ElementType != type) flow.to(type);
            ConditionalNormalizingFlow? conditional = contextWidth > 0 ? new ConditionalNormalizingFlow(flow, contextWidth) : null;
            try
            {
                Tensor initRows = setup.InitRows;
                using Tensor mask = tensor(setup.IntegerMask.Concat(new float[contextWidth]).ToArray()).to_type(type);
                if (flow.BaseDistribution is GaussianMixture mixture && setup.Start is null)
                    using (NewDisposeScope())
                    using (no_grad())
                        mixture.InitializeFrom(flow.ToLatent(initRows.narrow(1, 0, dimension) + mask.narrow(0, 0, dimension) * 0.5), o.Seed);
                if (conditional is not null)
                    using (NewDisposeScope())
                        conditional.InitializeMeans(initRows.narrow(1, 0, dimension) + mask.narrow(0, 0, dimension) * 0.5, initRows.narrow(1, dimension, contextWidth));
                nn.Module model = conditional ?? (nn.Module)flow;
                Func<Tensor, Tensor> logDensity = conditional is null ? rows => flow.LogDensity(rows) : MaximumLikelihoodTrainer.ConditionalLogDensity(conditional);
                MaximumLikelihoodOptions training = o.ToTrainingOptions(log);
                training.Progress = progress;
                TrainingHistory history = MaximumLikelihoodTrainer.Fit(model, logDensity, setup.Batches, training,
                    setup.IntegerMask.Any(m => m != 0) ? mask : null);
                return new FittedFlow(flow, conditional, logDensity, history);
            }
            catch
            {
                if (conditional is null) flow.Dispose();
                else conditional.Dispose();
                throw;
            }
        }

        // A seeded random split into training and validation row indices.
        private (int[] Train, int[] Validation) Split(int count)
        {
            int validationCount = (int)Math.Floor(count * options.ValidationFraction);
            if (options.ValidationFraction > 0 && validationCount < 1 || count - validationCount < 2)
                throw new InvalidOperationException($"Column '{options.FeatureColumnName}' has {count} usable rows: too few for ValidationFraction = " +
                    $"{options.ValidationFraction}. A fit needs at least 2 training rows and, with validation, at least 1 validation row " +
                    $"(here {(options.ValidationFraction > 0 ? Math.Max(3, (int)Math.Ceiling(1 / options.ValidationFraction)) : 2)} rows). " +
                    "Provide more rows or set ValidationFraction = 0.");
            int[] order = Enumerable.Range(0, count).ToArray();
            new Random(options.Seed).Shuffle(order);
            return (order[validationCount..], order[..validationCount]);
        }

        // Per-feature mean and standard deviation of the training rows, and the slots they determine (SlotStatistics).
        private SlotStatistics Statistics(TrainingRows rows, int[] train, float[] integerMask, string[]? slotNames, IChannel channel)
        {
            int d = rows.Dimension;
            var mean = new double[d];
            var scale = new double[d];
            foreach (int r in train)
                for (int j = 0; j < d; j++) mean[j] += rows.Values[r * d + j];
            for (int j = 0; j < d; j++) mean[j] /= train.Length;
            foreach (int r in train)
                for (int j = 0; j < d; j++)
                {
                    double delta = rows.Values[r * d + j] - mean[j];
                    scale[j] += delta * delta;
                }
            bool Identical(int i, int j) => train.All(r => rows.Values[r * d + i] == rows.Values[r * d + j]);
            return Standardize(mean, scale, train.Length, integerMask, slotNames, channel, Identical);
        }

        // Turns per-slot means and sums of squared deviations over n rows into the standardization's mean and scale, and
        // finds the slots the rows determine (point masses, or an exception with DegenerateSlots = Throw).
        private SlotStatistics Standardize(double[] mean, double[] squares, long n, float[] integerMask, string[]? slotNames, IChannel channel,
            Func<int, int, bool>? identical)
        {
            SlotStatistics statistics = SlotStatistics.From(mean, squares, n, integerMask, identical);
            int count = statistics.DeterminedSlots.Length;
            if (count == 0) return statistics;
            string Name(int j) => slotNames is null ? $"slot {j} of feature column '{options.FeatureColumnName}'" : $"column slot '{slotNames[j]}'";
            string list = string.Join(", ", statistics.DeterminedSlots.Select((j, i) => statistics.Sources[i] < 0
                ? FormattableString.Invariant($"{Name(j)} = {statistics.Mean[j]:G9}")
                : $"{Name(j)} = {Name(statistics.Sources[i])}"));
            if (options.DegenerateSlots == DegenerateSlotHandling.Throw || count == mean.Length)
                throw new InvalidOperationException((count == mean.Length ? "Every slot of the training rows is" : count == 1 ? "A slot of the training rows is" : $"{count} slots of the training rows are") +
                    $" determined exactly (a constant: a spread below float32's resolution of the values; or a repeat of another slot), so {(count == 1 ? "it has" : "they have")} no density: {list}. " +
                    (count == mean.Length ? "There is nothing to fit: provide rows that vary." :
                    "Drop them from the input (for example with mlContext.Transforms.SelectFeatures or by leaving them out of Concatenate or " +
                    "InputColumnNames), or set DegenerateSlots = PointMass to model them as point masses."));
            channel.Info(MessageSensitivity.None, $"Determined exactly by the training rows, modelled as point masses: {list}. A row that deviates from one " +
                $"loses {Layers.PointMassSlots.Penalty:G} nats of log-density per slot (DegenerateSlots = Throw refuses such data instead).");
            return statistics;
        }

        private static float[] LogDensities(Func<Tensor, Tensor> logDensity, Tensor rows)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return logDensity(rows).to_type(ScalarType.Float32).data<float>().ToArray();
        }

        // The chosen rows with their context values; integer slots shifted to the middle of their unit cell when a mask is given.
        private static Tensor ToTensor(TrainingRows rows, int[] indices, ScalarType type, float[]? midpoint)
        {
            int d = rows.Dimension, k = rows.ContextWidth, width = d + k;
            var values = new float[indices.Length * width];
            for (int i = 0; i < indices.Length; i++)
            {
                Array.Copy(rows.Values, indices[i] * d, values, i * width, d);
                Array.Copy(rows.Context, indices[i] * k, values, i * width + d, k);
                if (midpoint is not null)
                    for (int j = 0; j < d; j++) values[i * width + j] += 0.5f * midpoint[j];
            }
            Tensor result = tensor(values, new long[] { indices.Length, width });
            return type == ScalarType.Float32 ? result : result.to_type(type);
        }
    }
}
