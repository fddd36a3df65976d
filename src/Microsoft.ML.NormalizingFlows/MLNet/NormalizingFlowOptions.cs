using Microsoft.ML.NormalizingFlows.Training;

namespace Microsoft.ML.NormalizingFlows
{
    public sealed partial class NormalizingFlowEstimator
    {
        /// <summary>
        /// Options of <see cref="NormalizingFlowEstimator"/>. The estimator validates them when it is created and
        /// throws <see cref="ArgumentOutOfRangeException"/> naming the first option outside its range.
        /// </summary>
        public sealed class Options
        {
            // The training options' defaults are MaximumLikelihoodOptions's: one place.
            private static readonly MaximumLikelihoodOptions TrainingDefaults = new();

            /// <summary>The input column: a known-size vector of Single. Default "Features".</summary>
            public string FeatureColumnName = DefaultColumnNames.Features;

            /// <summary>
            /// The columns to model, read by the estimator itself instead of <see cref="FeatureColumnName"/>, or <c>null</c>
            /// (the default) to read the feature column. Numeric scalars and known-size vectors are the flow's data
            /// (integer types, and Single or Double columns holding only whole numbers when <see cref="WholeNumbersAsIntegers"/>,
            /// are dequantized); scalar key, text and boolean columns are categories, modelled by their exact joint
            /// frequencies with the numeric columns conditioned on them. <c>Generate</c> returns rows in these columns.
            /// </summary>
            public string[]? InputColumnNames;

            /// <summary>
            /// A class column (key, text, boolean or number; a scalar) to condition on, or <c>null</c> (the default) for none.
            /// The flow then models <c>p(row | class)</c>, which the log-density column reports; <c>Generate</c> draws a
            /// given class or the classes in their proportions. Each class gets its own Gaussian in the latent space.
            /// </summary>
            public string? LabelColumnName;

            /// <summary>
            /// Numeric columns to condition on without modelling them (standardized, they shift and scale the latent
            /// Gaussian), or <c>null</c> (the default) for none. Rows to score or sample must hold them.
            /// </summary>
            public string[]? ContextColumnNames;

            /// <summary>
            /// Whether Single and Double data columns whose training values are all whole numbers are treated as integers
            /// (dequantized for fitting, whole numbers in their range when generated). Default true.
            /// </summary>
            public bool WholeNumbersAsIntegers = true;

            /// <summary>
            /// An added column with an independent draw from the flow for each input row (a vector of Single in the flow's
            /// data slots, given the row's class and context), or <c>null</c> (the default) for none. Draws depend only on
            /// <see cref="SampleSeed"/> and the row's position, so they are reproducible for a given row order.
            /// </summary>
            public string? SampleColumnName;

            /// <summary>The scale of the sample column's base noise. Range: greater than 0, at most 10. Default 1.</summary>
            public double SampleTemperature = 1;

            /// <summary>Seeds the sample column's draws. Default 0.</summary>
            public int SampleSeed;

            /// <summary>The added column of log-densities (Single, natural log, data units). Default "LogDensity".</summary>
            public string LogDensityColumnName = DefaultColumnNames.LogDensity;

            /// <summary>The added column of latent values (a vector of Single), or <c>null</c> (the default) for none.</summary>
            public string? LatentColumnName;

            /// <summary>
            /// An added anomaly-score column, <c>-log p(x)</c> (Single, higher is more anomalous, as ML.NET's anomaly
            /// evaluator reads <c>Score</c>), or <c>null</c> (the default) for none.
            /// </summary>
            public string? ScoreColumnName;

            /// <summary>
            /// The architecture. Default <see cref="FlowPreset.Auto"/>: spline coupling layers (accurate and fast both ways;
            /// chosen by the README's preset benchmark) with the base distribution chosen by short fits and small-data
            /// settings when they apply (<see cref="FlowPreset.Auto"/> says how); <c>TrainingHistory.Choice</c> reports the
            /// choice. Name a preset to fit exactly it.
            /// </summary>
            public FlowPreset Preset = FlowPreset.Auto;

            /// <summary>The number of transform layers (couplings or autoregressive layers). Range: 1 to 64. Default 5.</summary>
            public int NumberOfLayers = 5;

            /// <summary>The width of each conditioner's hidden layers. Range: 1 to 4096. Default 64.</summary>
            public int HiddenUnits = 64;

            /// <summary>The number of hidden layers in each conditioner. Range: 1 to 16. Default 2.</summary>
            public int HiddenLayers = 2;

            /// <summary>Spline bins K (spline presets). Range: 2 to 64. Default 8.</summary>
            public int NumberOfBins = 8;

            /// <summary>Spline interval <c>[-B, B]</c> in standardized units (spline presets); identity outside. Range: greater than 0, at most 100. Default 4.</summary>
            public double TailBound = 4;

            /// <summary>The bound on each affine log-scale (RealNVP, MAF, IAF). Range: greater than 0, at most 20. Default 3.</summary>
            public double LogScaleBound = 3;

            /// <summary>RealNVP: a seeded random permutation before each coupling after the first (in addition to the alternating masks). Default false.</summary>
            public bool RandomPermutations;

            /// <summary>Autoregressive presets: MADE conditioners with residual blocks. Default false.</summary>
            public bool ResidualBlocks;

            /// <summary>An ActNorm layer (initialized from the first training batch) before each transform layer. Default false.</summary>
            public bool ActNorm;

            /// <summary>
            /// The base distribution. Default <see cref="BaseDistributionKind.StandardNormal"/>; <see cref="BaseDistributionKind.StudentT"/>
            /// for heavy-tailed data. With <see cref="FlowPreset.Auto"/>, StandardNormal lets Auto compare it with mixture bases;
            /// another kind is kept as given.
            /// </summary>
            public BaseDistributionKind BaseDistribution = BaseDistributionKind.StandardNormal;

            /// <summary>Components of a <see cref="BaseDistributionKind.GaussianMixture"/> base (seeded k-means on the first rows' latents starts them). Range: 1 to 1024. Default 8.</summary>
            public int MixtureComponents = 8;

            /// <summary>The most passes over the training rows. Range: 1 to 100000. Default 100.</summary>
            public int MaxEpochs = TrainingDefaults.MaxEpochs;

            /// <summary>The most optimizer steps, or <c>null</c> for <see cref="MaxEpochs"/> passes; the fit stops at the first limit reached. Range: 1 or more. Default null.</summary>
            public long? MaxSteps = TrainingDefaults.MaxSteps;

            /// <summary>The most wall-clock time for the optimizer steps, or <c>null</c> for no limit (the fit keeps its best parameters so far). Range: greater than 0. Default null.</summary>
            public TimeSpan? TimeBudget = TrainingDefaults.TimeBudget;

            /// <summary>Rows per optimizer step. Range: 1 to 1048576. Default 256.</summary>
            public int BatchSize = TrainingDefaults.BatchSize;

            /// <summary>Adam's step size. Range: greater than 0, at most 1. Default 1e-3.</summary>
            public double LearningRate = TrainingDefaults.LearningRate;

            /// <summary>How the learning rate changes over the fit. Default <see cref="LearningRateSchedule.Cosine"/> (to 1% at the step budget).</summary>
            public LearningRateSchedule Schedule = TrainingDefaults.Schedule;

            /// <summary>Steps of linear learning-rate warm-up at the start. Range: 0 or more. Default 0.</summary>
            public int WarmupSteps = TrainingDefaults.WarmupSteps;

            /// <summary>Decoupled weight decay (AdamW); 0 is plain Adam. Range: 0 to 1. Default 0.</summary>
            public double WeightDecay = TrainingDefaults.WeightDecay;

            /// <summary>Decay of the moving average of the parameters that validation evaluates and the fit keeps; 0 keeps the trained parameters. Range: 0 to less than 1. Default 0 (0.99 helps large fits; see the README).</summary>
            public double AverageDecay = TrainingDefaults.AverageDecay;

            /// <summary>Optimizer steps between validation reports; 0 reports once per epoch. Range: 0 or more. Default 0.</summary>
            public int ValidationInterval = TrainingDefaults.ValidationInterval;

            /// <summary>The largest allowed global gradient norm; 0 turns clipping off. Range: 0 or more. Default 10.</summary>
            public double GradientClipNorm = TrainingDefaults.GradientClipNorm;

            /// <summary>
            /// Robust fitting on contaminated data: the fraction of each batch's lowest-density rows left out of that
            /// step's loss (trimmed likelihood). Range: 0 to 0.5. Default 0.
            /// </summary>
            public double TrimFraction;

            /// <summary>
            /// The fraction of rows held out (at random, seeded) to measure validation log-likelihood, stop early and
            /// choose the parameters to keep; 0 trains on every row and keeps the last parameters. Range: 0 to 0.5. Default 0.1.
            /// </summary>
            public double ValidationFraction = 0.1;

            /// <summary>
            /// Optimizer steps without a better validation log-likelihood before stopping; 0 never stops early; <c>null</c> a
            /// quarter of the step budget (at least 10 validation intervals). Range: null, 0 or more. Default null.
            /// </summary>
            public long? EarlyStoppingPatience = TrainingDefaults.EarlyStoppingPatience;

            /// <summary>Seeds initialization, permutations, the validation split and shuffling: a seed gives identical models. Default 0.</summary>
            public int Seed;

            /// <summary>
            /// Whether the fit calls glibc's <c>malloc_trim</c> every 32 steps, handing freed native pages back to the
            /// operating system. It acts on the whole process's heap, so it is off unless a host asks for it. Default false.
            /// </summary>
            public bool TrimNativeMemory;

            /// <summary>TorchSharp's thread count during the fit (a process-wide libtorch setting, restored when the last fit using it ends; concurrent fits asking for different counts run one after another), or <c>null</c> to leave it as it is. Range: 1 or more.</summary>
            public int? NumberOfThreads;

            /// <summary>
            /// Whether the fit reads the rows into memory once or streams them from the IDataView every epoch through a
            /// shuffle buffer of <see cref="ShuffleBufferSize"/> rows. Default <see cref="TrainingDataCache.Auto"/>: in memory
            /// when the input has at most <see cref="ShuffleBufferSize"/> rows (faster), streamed otherwise (memory stays bounded).
            /// </summary>
            public TrainingDataCache TrainingData = TrainingDataCache.Auto;

            /// <summary>Rows in the streaming fit's shuffle buffer (and the Auto threshold). Range: 64 to 16 777 216. Default 65 536.</summary>
            public int ShuffleBufferSize = 65_536;

            /// <summary>
            /// What to do with a slot the training rows determine exactly: constant (a spread below float32's resolution of
            /// its values, 1e-7 |mean|) or, in an in-memory fit, a real slot repeating another in every row.
            /// <see cref="DegenerateSlotHandling.PointMass"/> (the default) models the other slots and such a slot as a point
            /// mass (a row that deviates from it loses 1e6 nats per slot, so it ranks as the most anomalous; the log names
            /// the slots); <see cref="DegenerateSlotHandling.Throw"/> refuses the data, naming them.
            /// </summary>
            public DegenerateSlotHandling DegenerateSlots = DegenerateSlotHandling.PointMass;

            /// <summary>What to do with training rows holding NaN or an infinity. Default <see cref="InvalidRowHandling.Throw"/>.</summary>
            public InvalidRowHandling InvalidRows = InvalidRowHandling.Throw;

            /// <summary>
            /// The floating-point type of training and of TorchSharp sampling. Scoring (<c>Transform</c>, the flow file, the
            /// ONNX graphs) runs through the float32 graph either way. Default <see cref="FlowPrecision.Single"/>.
            /// </summary>
            public FlowPrecision Precision = FlowPrecision.Single;

            /// <summary>
            /// The CUDA device on which the fitted transformer scores with ONNX Runtime, or <c>null</c> (the default):
            /// <c>MLContext.GpuDeviceId</c>, and the CPU when that is unset too. As in ML.NET's <c>ApplyOnnxModel</c>. With
            /// a device and no fallback, the CUDA provider is checked before the fit starts.
            /// </summary>
            public int? GpuDeviceId;

            /// <summary>
            /// Whether scoring falls back to the CPU when the CUDA provider cannot be used (a line in the log says so);
            /// when false (and <c>MLContext.FallbackToCpu</c> is false too), an unusable GPU throws, before the fit starts.
            /// Default false, as in ML.NET's <c>ApplyOnnxModel</c>.
            /// </summary>
            public bool FallbackToCpu;

            /// <summary>Receives a report after each epoch, or <c>null</c>. Reports also go to <c>MLContext.Log</c>.</summary>
            public IProgress<TrainingProgress>? Progress;

            /// <summary>Cancels fitting between optimizer steps.</summary>
            public CancellationToken CancellationToken;

            /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option outside its range.</summary>
            public void Validate()
            {
                CheckName(FeatureColumnName, nameof(FeatureColumnName));
                CheckName(LogDensityColumnName, nameof(LogDensityColumnName));
                if (ScoreColumnName is not null)
                {
                    CheckName(ScoreColumnName, nameof(ScoreColumnName));
                    MaximumLikelihoodOptions.Check(ScoreColumnName != LogDensityColumnName && ScoreColumnName != LatentColumnName,
                        nameof(ScoreColumnName), ScoreColumnName, "different from LogDensityColumnName and LatentColumnName");
                }
                if (LatentColumnName is not null)
                {
                    CheckName(LatentColumnName, nameof(LatentColumnName));
                    MaximumLikelihoodOptions.Check(LatentColumnName != LogDensityColumnName, nameof(LatentColumnName), LatentColumnName, "different from LogDensityColumnName");
                }
                if (SampleColumnName is not null)
                {
                    CheckName(SampleColumnName, nameof(SampleColumnName));
                    MaximumLikelihoodOptions.Check(new[] { LogDensityColumnName, LatentColumnName, ScoreColumnName }.All(n => n != SampleColumnName),
                        nameof(SampleColumnName), SampleColumnName, "different from the other added columns");
                }
                MaximumLikelihoodOptions.Check(SampleTemperature > 0 && SampleTemperature <= 10, nameof(SampleTemperature), SampleTemperature, "greater than 0 and at most 10");
                if (InputColumnNames is not null)
                {
                    MaximumLikelihoodOptions.Check(InputColumnNames.Length > 0, nameof(InputColumnNames), "an empty list", "null or at least one column name");
                    foreach (string name in InputColumnNames) CheckName(name, nameof(InputColumnNames));
                }
                foreach (string name in ContextColumnNames ?? Array.Empty<string>()) CheckName(name, nameof(ContextColumnNames));
                if (LabelColumnName is not null) CheckName(LabelColumnName, nameof(LabelColumnName));
                string[] read = ToTabularSpec().AllColumns.ToArray();
                string? repeated = read.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1)?.Key;
                MaximumLikelihoodOptions.Check(repeated is null, nameof(InputColumnNames), repeated, "each column named once across InputColumnNames (or FeatureColumnName), LabelColumnName and ContextColumnNames");
                MaximumLikelihoodOptions.Check(!IsTabular || BaseDistribution == BaseDistributionKind.StandardNormal, nameof(BaseDistribution), BaseDistribution,
                    "StandardNormal when reading several columns, a label or context (the conditional base replaces it)");
                ToArchitecture().Validate();
                MaximumLikelihoodOptions.Check(ValidationFraction >= 0 && ValidationFraction <= 0.5, nameof(ValidationFraction), ValidationFraction, "from 0 to 0.5");
                MaximumLikelihoodOptions.Check(Enum.IsDefined(InvalidRows), nameof(InvalidRows), InvalidRows, "Throw or Skip");
                MaximumLikelihoodOptions.Check(Enum.IsDefined(DegenerateSlots), nameof(DegenerateSlots), DegenerateSlots, "PointMass or Throw");
                MaximumLikelihoodOptions.Check(Enum.IsDefined(TrainingData), nameof(TrainingData), TrainingData, "Auto, Memory or Stream");
                MaximumLikelihoodOptions.Check(ShuffleBufferSize >= 64 && ShuffleBufferSize <= 16_777_216, nameof(ShuffleBufferSize), ShuffleBufferSize, "from 64 to 16 777 216");
                MaximumLikelihoodOptions.Check(Enum.IsDefined(Precision), nameof(Precision), Precision, "Single or Double");
                MaximumLikelihoodOptions.Check(GpuDeviceId is null or >= 0, nameof(GpuDeviceId), GpuDeviceId, "null or a device index of 0 or more");
                ToTrainingOptions(log: null).Validate();
            }

            internal Options Clone() => (Options)MemberwiseClone();

            /// <summary>Whether the estimator reads its own columns or a condition (a tabular model) rather than one feature vector.</summary>
            internal bool IsTabular => InputColumnNames is not null || LabelColumnName is not null || ContextColumnNames is not null;

            internal Tabular.TabularSpec ToTabularSpec() => new(
                InputColumnNames ?? new[] { FeatureColumnName }, LabelColumnName, ContextColumnNames ?? Array.Empty<string>(), WholeNumbersAsIntegers, InvalidRows);

            internal FlowArchitecture ToArchitecture() => new()
            {
                Preset = Preset,
                NumberOfLayers = NumberOfLayers,
                HiddenUnits = HiddenUnits,
                HiddenLayers = HiddenLayers,
                NumberOfBins = NumberOfBins,
                TailBound = TailBound,
                LogScaleBound = LogScaleBound,
                RandomPermutations = RandomPermutations,
                ResidualBlocks = ResidualBlocks,
                ActNorm = ActNorm,
                BaseDistribution = BaseDistribution,
                MixtureComponents = MixtureComponents,
            };

            internal MaximumLikelihoodOptions ToTrainingOptions(Action<string>? log) => new()
            {
                MaxEpochs = MaxEpochs,
                MaxSteps = MaxSteps,
                TimeBudget = TimeBudget,
                BatchSize = BatchSize,
                LearningRate = LearningRate,
                Schedule = Schedule,
                WarmupSteps = WarmupSteps,
                WeightDecay = WeightDecay,
                AverageDecay = AverageDecay,
                ValidationInterval = ValidationInterval,
                GradientClipNorm = GradientClipNorm,
                TrimFraction = TrimFraction,
                EarlyStoppingPatience = EarlyStoppingPatience,
                Seed = Seed,
                NumberOfThreads = NumberOfThreads,
                TrimNativeMemory = TrimNativeMemory,
                Progress = Progress,
                CancellationToken = CancellationToken,
                Log = log,
            };

            private static void CheckName(string? name, string option) =>
                MaximumLikelihoodOptions.Check(!string.IsNullOrWhiteSpace(name), option, name, "a non-empty column name");
        }

        /// <summary>The default names of the columns the estimator reads and writes.</summary>
        public static class DefaultColumnNames
        {
            /// <summary>"Features", ML.NET's usual input column.</summary>
            public const string Features = "Features";

            /// <summary>"LogDensity".</summary>
            public const string LogDensity = "LogDensity";

            /// <summary>"Latent".</summary>
            public const string Latent = "Latent";
        }
    }
}
