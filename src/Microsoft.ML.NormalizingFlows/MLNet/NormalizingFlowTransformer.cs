using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Tabular;
using Microsoft.ML.NormalizingFlows.Training;
using Microsoft.ML.Runtime;
using PipelineOnnx = Microsoft.ML.NormalizingFlows.Onnx.PipelineOnnx;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// A fitted normalizing flow. <see cref="Transform"/> adds a Single column with each row's log-density (natural
    /// log, in the data's own units) and, when configured, a vector column with each row's latent value. Scoring runs
    /// the flow's ONNX graph on ONNX Runtime, a block of rows per call, on CUDA when asked and available.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The transformer is immutable: it holds one fitted model (the flow file's graph, weights and description), and
    /// <see cref="CopyFlow"/> hands out independent TorchSharp copies. After <see cref="Dispose"/> every member that scores,
    /// samples, saves or exports (also through data views and prediction engines made earlier) throws
    /// <see cref="ObjectDisposedException"/>; the descriptive properties (column names, <see cref="TrainingHistory"/>)
    /// stay readable.
    /// </para>
    /// <para>
    /// Save and load: <see cref="SaveTo(string)"/> writes the flow file (an ONNX density graph whose metadata and
    /// initializers rebuild the flow) and <see cref="Load(MLContext, string, int?, bool)"/> reads it back;
    /// <c>mlContext.Model.Save</c> stores the transformer inside a pipeline's zip as ML.NET built-ins (an embedded
    /// ONNX model), which <c>mlContext.Model.Load</c> reads back as such.
    /// </para>
    /// </remarks>
    public sealed partial class NormalizingFlowTransformer : ITransformer, IDisposable
    {
        private readonly IHostEnvironment environment;
        private readonly byte[] flowFile;
        private readonly FlowScorer scorer;
        private readonly FlowRuntime runtime;
        private readonly object flowGate = new();
        private readonly UsageGate gate = new(nameof(NormalizingFlowTransformer));
        private NormalizingFlow? flow;

        internal NormalizingFlowTransformer(
            IHostEnvironment environment, NormalizingFlow? flow, byte[] flowFile, FlowFileMetadata metadata,
            int? gpuDeviceId, bool fallbackToCpu, int dimension, Action<string>? log)
        {
            this.environment = environment;
            this.flow = flow;
            this.flowFile = flowFile;
            Metadata = metadata;
            FeatureColumnName = metadata.FeatureColumnName ?? NormalizingFlowEstimator.DefaultColumnNames.Features;
            LogDensityColumnName = metadata.LogDensityColumnName ?? NormalizingFlowEstimator.DefaultColumnNames.LogDensity;
            LatentColumnName = metadata.LatentColumnName;
            ScoreColumnName = metadata.ScoreColumnName;
            SampleColumnName = metadata.SampleColumnName;
            SampleTemperature = metadata.SampleTemperature;
            SampleSeed = metadata.SampleSeed;
            Tabular = metadata.Tabular is null ? null : TabularModel.FromJson(metadata.Tabular);
            TrainingHistory = metadata.TrainingHistory ?? new TrainingHistory(Array.Empty<TrainingProgress>(), 0, false);
            GpuDeviceId = gpuDeviceId;
            FallbackToCpu = fallbackToCpu;
            Dimension = dimension;
            scorer = new FlowScorer(flowFile, dimension, Tabular?.Codec.ContextWidth ?? 0, gpuDeviceId, fallbackToCpu, log);
            runtime = new FlowRuntime(gate, scorer, Tabular, new FlowSampler(() => SnapshotFlow, Tabular, dimension), SampleTemperature, SampleSeed);
        }

        /// <summary>
        /// A new TorchSharp copy of the fitted flow, rebuilt from the flow file (this needs the libtorch native library;
        /// scoring does not): for sampling with your own generator, direct use or inspection. The copy is the caller's
        /// to dispose; changing, training or disposing it leaves this transformer as it is. To train further and score the
        /// result, use <see cref="NormalizingFlowEstimator.Fit(IDataView, NormalizingFlowTransformer)"/>, which returns a new transformer.
        /// </summary>
        /// <returns>The copy, on the CPU.</returns>
        /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
        public NormalizingFlow CopyFlow()
        {
            using UsageGate.Lease lease = gate.Enter();
            return RebuildFlow();
        }

        private NormalizingFlow RebuildFlow() => FlowOnnx.LoadFlow(flowFile, "the transformer's flow file").Flow;

        // The transformer's own module (sampling, contributions, the sampling graph); used only inside the gate, never handed out.
        private NormalizingFlow SnapshotFlow
        {
            get
            {
                lock (flowGate)
                    return flow ??= RebuildFlow();
            }
        }

        /// <summary>What the fit did, epoch by epoch (restored from the flow file after loading).</summary>
        public TrainingHistory TrainingHistory { get; }

        /// <summary>The input column the flow reads.</summary>
        public string FeatureColumnName { get; }

        /// <summary>The column of log-densities this transformer adds.</summary>
        public string LogDensityColumnName { get; }

        /// <summary>The column of latent values this transformer adds, or <c>null</c> when it adds none.</summary>
        public string? LatentColumnName { get; }

        /// <summary>The anomaly-score column (<c>-log p(x)</c>) this transformer adds, or <c>null</c> when it adds none.</summary>
        public string? ScoreColumnName { get; }

        /// <summary>
        /// The column of independent draws this transformer adds (a vector of Single, one draw from the flow per input row,
        /// given the row's class and context), or <c>null</c> when it adds none. The draws are reproducible for a given
        /// <see cref="SampleSeed"/> and row order; a reloaded transformer draws equally distributed values (equal up to
        /// floating-point rounding of the flow's inverse).
        /// </summary>
        public string? SampleColumnName { get; }

        /// <summary>The scale of the base noise of the sample column's draws (1 samples the model; below 1, more typical rows).</summary>
        public double SampleTemperature { get; }

        /// <summary>The seed of the sample column's draws: a row's draw depends on it and the row's position.</summary>
        public int SampleSeed { get; }

        /// <summary>The number of features per row.</summary>
        public int Dimension { get; }

        /// <summary>The CUDA device asked for scoring, or <c>null</c> for the CPU.</summary>
        public int? GpuDeviceId { get; }

        /// <summary>Whether scoring falls back to the CPU when CUDA is not usable.</summary>
        public bool FallbackToCpu { get; }

        /// <summary>The ONNX Runtime provider that scores: "CUDA" or "CPU".</summary>
        public string ScoringProvider
        {
            get
            {
                ThrowIfDisposed();
                return scorer.Provider;
            }
        }

        /// <summary>The feature names recorded at fitting (the feature column's slot names), or <c>null</c>.</summary>
        public IReadOnlyList<string>? FeatureNames => Metadata.FeatureNames;

        /// <summary>
        /// The log-densities of the rows the fit held out for validation (not trained on), for calibrating thresholds;
        /// empty after loading or without validation rows.
        /// </summary>
        public IReadOnlyList<float> HeldOutLogDensities { get; internal set; } = Array.Empty<float>();

        /// <summary>
        /// Which features make a row's log-density low, for whoever investigates an alert: per feature,
        /// <c>-(d log p / d x_j) (x_j - mean_j)</c>, the first-order drop in log-density that the feature's deviation from
        /// the training mean causes. Positive values push the row towards "anomalous"; the largest come first to look at.
        /// </summary>
        /// <param name="features">One row, <see cref="Dimension"/> values in the data's units.</param>
        /// <returns>One contribution per feature (nats).</returns>
        /// <exception cref="NotSupportedException">The flow is conditioned on a class or context.</exception>
        public float[] FeatureContributions(float[] features)
        {
            ArgumentNullException.ThrowIfNull(features);
            if (features.Length != Dimension)
                throw new ArgumentException($"The row has {features.Length} values but the flow was trained on {Dimension}.", nameof(features));
            if (Tabular?.BaseParameters is not null)
                throw new NotSupportedException("This flow is conditioned on a class or context, so a row's log-density depends on more than its features; " +
                    "feature contributions are available for unconditioned flows.");
            using UsageGate.Lease lease = gate.Enter();
            NormalizingFlow model = SnapshotFlow;
            using var scope = TorchSharp.torch.NewDisposeScope();
            var x = TorchSharp.torch.tensor(features, new long[] { 1, Dimension }).to_type(model.ElementType).requires_grad_(true);
            model.LogDensity(x).sum().backward();
            float[] gradient = x.grad!.to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
            double[] kept = model.Layers.OfType<Layers.Standardization>().FirstOrDefault()?.Mean ?? new double[model.LatentDimension];
            var contributions = new float[Dimension];
            // A point-mass slot contributes the log-density its deviation costs; the others their first-order drop.
            Layers.PointMassSlots? pointMasses = model.PointMassSlots;
            for (int j = 0, k = 0; j < Dimension; j++)
            {
                int c = pointMasses?.IndexOf(j) ?? -1;
                contributions[j] = c >= 0
                    ? (float)pointMasses!.Deviation(c, features)
                    : (float)(-gradient[j] * (features[j] - kept[k++]));
            }
            return contributions;
        }

        /// <summary>True: prediction engines can use this transformer.</summary>
        public bool IsRowToRowMapper => true;

        internal FlowFileMetadata Metadata { get; }

        /// <summary>How many times the density graph ran (blocks of a cursor, rows of a prediction engine).</summary>
        internal long GraphRuns => runtime.GraphRuns;

        /// <summary>The tabular model of a flow over several columns or with a condition; <c>null</c> for a plain flow.</summary>
        internal TabularModel? Tabular { get; }

        /// <summary>The schema <see cref="Transform"/> produces from <paramref name="inputSchema"/>.</summary>
        /// <param name="inputSchema">The input schema; it must hold the feature column with <see cref="Dimension"/> values.</param>
        /// <returns>The output schema.</returns>
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
        {
            ThrowIfDisposed();
            return new FlowOutputSchema(inputSchema, this).Output;
        }

        /// <summary>Adds the log-density (and latent) columns to <paramref name="input"/>, computed lazily in blocks of rows.</summary>
        /// <param name="input">The data; it must hold the feature column with <see cref="Dimension"/> values.</param>
        /// <returns>The data with the added columns.</returns>
        /// <exception cref="NotSupportedException">Called by ML.NET's <c>ConvertToOnnx</c>, which cannot see inside this transformer.</exception>
        public IDataView Transform(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            ThrowIfDisposed();
            PipelineOnnx.ThrowIfCalledByMLNetOnnxExport();
            return new FlowDataView(input, new FlowOutputSchema(input.Schema, this), runtime);
        }

        /// <summary>A row-to-row mapper over <paramref name="inputSchema"/>, as prediction engines use.</summary>
        /// <param name="inputSchema">The input schema.</param>
        /// <returns>The mapper.</returns>
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
        {
            ThrowIfDisposed();
            return new FlowRowMapper(new FlowOutputSchema(inputSchema, this), runtime);
        }

        /// <summary>
        /// Saves the transformer inside an ML.NET model zip as built-in transformers that reproduce its columns: the
        /// flow's ONNX graph in <c>ApplyOnnxModel</c>, then column reshaping. Loading needs Microsoft.ML.OnnxTransformer,
        /// ONNX Runtime and this assembly, not TorchSharp; it returns those built-ins, not this type.
        /// </summary>
        /// <param name="ctx">The save context.</param>
        void ICanSaveModel.Save(ModelSaveContext ctx)
        {
            ThrowIfDisposed();
            ModelZipForm.Build(this).Save(ctx);
        }

        /// <summary>Writes the flow file: the ONNX density graph (input <c>features</c>, outputs <c>log_density</c>, <c>latent</c>) with the metadata that rebuilds this transformer.</summary>
        /// <param name="path">The file to write.</param>
        public void SaveTo(string path)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            ThrowIfDisposed();
            File.WriteAllBytes(path, flowFile);
        }

        /// <summary>Writes the flow file to a stream.</summary>
        /// <param name="stream">The stream.</param>
        public void SaveTo(Stream stream)
        {
            ArgumentNullException.ThrowIfNull(stream);
            ThrowIfDisposed();
            stream.Write(flowFile);
        }

        /// <summary>
        /// The ONNX density graph (the flow file's bytes): input <c>features [N, d]</c>, outputs <c>log_density [N]</c> and
        /// <c>latent [N, d]</c>; float64 inputs and outputs for a <c>Precision = Double</c> flow. A flow over several columns
        /// or with a condition also takes <c>context [N, k]</c>; then <c>features</c> holds the data columns' values as they
        /// are (integers too) and <c>context</c> each categorical column's one-hot block and each numeric context column's
        /// values, in the order of the flow's columns, and <c>log_density</c> is the whole row's, categories included.
        /// </summary>
        /// <returns>A copy of the bytes.</returns>
        public byte[] ExportDensityOnnx()
        {
            ThrowIfDisposed();
            return (byte[])flowFile.Clone();
        }

        /// <summary>
        /// The ONNX sampling graph (float32): input <c>noise [N, d]</c> (standard-normal draws), outputs <c>samples [N, d]</c> and
        /// <c>log_density [N]</c>. A flow over several columns or with a condition also takes <c>context [N, k]</c> (as in
        /// <see cref="ExportDensityOnnx"/>: the rows' categories and numeric context are given, not drawn); its integer
        /// columns come out continuous, to be floored.
        /// </summary>
        /// <returns>The serialized model.</returns>
        public byte[] ExportSamplingOnnx()
        {
            using UsageGate.Lease lease = gate.Enter();
            return Tabular is null ? FlowOnnx.ExportSampling(SnapshotFlow) : FlowOnnx.ExportSampling(SnapshotFlow, Tabular);
        }

        /// <summary>Loads a transformer from a flow file written by <see cref="SaveTo(string)"/>.</summary>
        /// <param name="mlContext">The context whose log receives the provider line.</param>
        /// <param name="path">The file.</param>
        /// <param name="gpuDeviceId">The CUDA device to score on, or <c>null</c>: <c>mlContext.GpuDeviceId</c> (the CPU when that is unset too).</param>
        /// <param name="fallbackToCpu">Whether to score on the CPU when CUDA is not usable.</param>
        /// <returns>The transformer.</returns>
        /// <exception cref="InvalidDataException">The file is truncated, corrupt or not a flow file; the message names it.</exception>
        public static NormalizingFlowTransformer Load(MLContext mlContext, string path, int? gpuDeviceId = null, bool fallbackToCpu = true)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            return Load(mlContext, File.ReadAllBytes(path), path, gpuDeviceId, fallbackToCpu);
        }

        /// <summary>Loads a transformer from a stream holding a flow file.</summary>
        /// <param name="mlContext">The context whose log receives the provider line.</param>
        /// <param name="stream">The stream.</param>
        /// <param name="gpuDeviceId">The CUDA device to score on, or <c>null</c>: <c>mlContext.GpuDeviceId</c> (the CPU when that is unset too).</param>
        /// <param name="fallbackToCpu">Whether to score on the CPU when CUDA is not usable.</param>
        /// <returns>The transformer.</returns>
        /// <exception cref="InvalidDataException">The stream does not hold a flow file.</exception>
        public static NormalizingFlowTransformer Load(MLContext mlContext, Stream stream, int? gpuDeviceId = null, bool fallbackToCpu = true)
        {
            ArgumentNullException.ThrowIfNull(stream);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return Load(mlContext, buffer.ToArray(), "the stream", gpuDeviceId, fallbackToCpu);
        }

        private static NormalizingFlowTransformer Load(MLContext mlContext, byte[] bytes, string source, int? gpuDeviceId, bool fallbackToCpu)
        {
            ArgumentNullException.ThrowIfNull(mlContext);
            (FlowFileMetadata metadata, int dimension) = FlowOnnx.ReadSummary(bytes, source);
            IHost host = ((IHostEnvironment)mlContext).Register(nameof(NormalizingFlowTransformer));
            using IChannel channel = host.Start("Loading a normalizing flow");
            try
            {
                return new NormalizingFlowTransformer(mlContext, null, bytes, metadata, gpuDeviceId ?? mlContext.GpuDeviceId, fallbackToCpu, dimension,
                    line => channel.Info(MessageSensitivity.None, line));
            }
            catch (OnnxRuntime.OnnxRuntimeException e)
            {
                throw new InvalidDataException($"'{source}' is not a usable normalizing-flow file: ONNX Runtime rejected its graph ({e.Message.Trim()}).", e);
            }
        }

        /// <summary>
        /// Releases the ONNX Runtime session and the flow's native tensors, after any scoring or sampling under way has
        /// finished. Afterwards scoring, sampling, saving and exporting throw <see cref="ObjectDisposedException"/>.
        /// Calling it again does nothing.
        /// </summary>
        public void Dispose()
        {
            if (!gate.Close()) return;
            scorer.Dispose();
            lock (flowGate)
            {
                flow?.Dispose();
                flow = null;
            }
        }

        private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(gate.IsClosed, this);

        /// <summary>An independent transformer over the same flow file (its own session and module): disposing either leaves the other working.</summary>
        internal NormalizingFlowTransformer Copy()
        {
            ThrowIfDisposed();
            return new NormalizingFlowTransformer(environment, null, flowFile, Metadata, GpuDeviceId, FallbackToCpu, Dimension, log: null)
            {
                HeldOutLogDensities = HeldOutLogDensities,
            };
        }

        internal MLContext Context => environment as MLContext ?? new MLContext();
    }
}
