using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Layers
{
    /// <summary>
    /// A planar layer (Rezende and Mohamed, 2015) on the sampling side: <c>x = z + u' tanh(w.z + b)</c>, with
    /// <c>u' = u + (softplus(w.u) - 1 - w.u) w / |w|^2</c> so that the map is invertible, and
    /// <c>log|det J| = log|1 + u'.(1 - tanh^2(w.z + b)) w|</c>.
    /// </summary>
    /// <remarks>
    /// The inverse has no closed form, so <see cref="Forward"/> (data to latent) throws: a flow with planar layers gives
    /// densities only of its own samples (<see cref="NormalizingFlow.SampleWithLogDensity"/>, <see cref="NormalizingFlow.FromLatent"/>),
    /// which is what variational inference needs. It exports to the sampling graph only.
    /// </remarks>
    public sealed class PlanarLayer : FlowLayer, IOnnxExportableLayer
    {
        internal const string TypeName = nameof(PlanarLayer);
        internal const string NoInverse = "has no closed-form inverse: a flow with it maps latent draws to samples and gives the density only of its own samples (SampleWithLogDensity, FromLatent)";

        private readonly Parameter u;
        private readonly Parameter w;
        private readonly Parameter b;

        /// <summary>Creates the layer with small random u and w (TorchSharp's global generator unless built by FlowFactory) and b = 0.</summary>
        /// <param name="dimension">d, at least 1.</param>
        public PlanarLayer(int dimension) : base(TypeName, dimension)
        {
            u = new Parameter(ParameterInitialization.Normal(new long[] { dimension }, 0.1));
            w = new Parameter(ParameterInitialization.Normal(new long[] { dimension }, 0.1));
            b = new Parameter(zeros(1));
            RegisterComponents();
        }

        /// <summary>Not available: see the remarks.</summary>
        /// <param name="input">Unused.</param>
        /// <returns>Never returns.</returns>
        /// <exception cref="NotSupportedException">Always.</exception>
        public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) =>
            throw new NotSupportedException($"{TypeName} {NoInverse}.");

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input)
        {
            Tensor constrained = ConstrainedU();
            Tensor activation = (input.matmul(w) + b).tanh();
            Tensor output = input + activation.unsqueeze(1) * constrained;
            Tensor slope = (1 - activation.square()) * constrained.dot(w);
            return (output, (1 + slope).abs().log());
        }

        /// <summary>Not available: see the remarks.</summary>
        /// <param name="graph">Unused.</param>
        /// <param name="input">Unused.</param>
        /// <param name="stateKeyPrefix">Unused.</param>
        /// <returns>Never returns.</returns>
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix) =>
            throw new NotSupportedException($"{TypeName} {NoInverse}; only the sampling graph can be exported.");

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor constrained = ConstrainedU().to_type(ScalarType.Float32);
            float uw = constrained.dot(w.to_type(ScalarType.Float32)).item<float>();
            string activation = graph.Node("Tanh", new[] { graph.Add(graph.Node("MatMul", new[] { input, graph.State(stateKeyPrefix + "w") }), graph.State(stateKeyPrefix + "b")) });
            string column = graph.Node("Reshape", new[] { activation, graph.Constant(new long[] { -1, 1 }) });
            string output = graph.Add(input, graph.Mul(column, graph.Constant(constrained.data<float>().ToArray())));
            string slope = graph.Mul(graph.Sub(graph.Constant(1f), graph.Mul(activation, activation)), graph.Constant(uw));
            return (output, graph.Node("Log", new[] { graph.Node("Abs", new[] { graph.Add(graph.Constant(1f), slope) }) }));
        }

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static PlanarLayer Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());

        private Tensor ConstrainedU()
        {
            Tensor wu = w.dot(u);
            return u + (nn.functional.softplus(wu) - 1 - wu) * w / (w.square().sum() + 1e-12);
        }
    }

    /// <summary>
    /// A radial layer (Rezende and Mohamed, 2015) on the sampling side: <c>x = z + beta h(r) (z - z0)</c>,
    /// <c>r = |z - z0|</c>, <c>h = 1 / (alpha + r)</c>, <c>alpha = softplus(a) &gt; 0</c>,
    /// <c>beta = softplus(b) - alpha &gt;= -alpha</c> (invertible);
    /// <c>log|det J| = (d - 1) log(1 + beta h) + log(1 + beta h - beta h^2 r)</c>.
    /// </summary>
    /// <remarks>Like <see cref="PlanarLayer"/>, it has no closed-form inverse: Forward throws, densities are of its own samples.</remarks>
    public sealed class RadialLayer : FlowLayer, IOnnxExportableLayer
    {
        internal const string TypeName = nameof(RadialLayer);

        private readonly Parameter center;
        private readonly Parameter rawAlpha;
        private readonly Parameter rawBeta;

        /// <summary>Creates the layer with a small random center (TorchSharp's global generator unless built by FlowFactory).</summary>
        /// <param name="dimension">d, at least 1.</param>
        public RadialLayer(int dimension) : base(TypeName, dimension)
        {
            center = new Parameter(ParameterInitialization.Normal(new long[] { dimension }, 0.1));
            rawAlpha = new Parameter(zeros(1));
            rawBeta = new Parameter(zeros(1));
            RegisterComponents();
        }

        /// <summary>Not available: see the remarks.</summary>
        /// <param name="input">Unused.</param>
        /// <returns>Never returns.</returns>
        /// <exception cref="NotSupportedException">Always.</exception>
        public override (Tensor Output, Tensor LogAbsDetJacobian) Forward(Tensor input) =>
            throw new NotSupportedException($"{TypeName} {PlanarLayer.NoInverse}.");

        /// <inheritdoc />
        public override (Tensor Output, Tensor LogAbsDetJacobian) Inverse(Tensor input)
        {
            Tensor alpha = nn.functional.softplus(rawAlpha);
            Tensor beta = nn.functional.softplus(rawBeta) - alpha;
            Tensor difference = input - center;
            Tensor r = difference.square().sum(1).sqrt();
            Tensor h = 1 / (alpha + r);
            Tensor betaH = beta * h;
            Tensor output = input + betaH.unsqueeze(1) * difference;
            Tensor logDet = (Dimension - 1) * (1 + betaH).log() + (1 + betaH - beta * h.square() * r).log();
            return (output, logDet);
        }

        /// <summary>Not available: see the remarks.</summary>
        /// <param name="graph">Unused.</param>
        /// <param name="input">Unused.</param>
        /// <param name="stateKeyPrefix">Unused.</param>
        /// <returns>Never returns.</returns>
        public (string Output, string? LogAbsDetJacobian) ExportForward(OnnxGraph graph, string input, string stateKeyPrefix) =>
            throw new NotSupportedException($"{TypeName} {PlanarLayer.NoInverse}; only the sampling graph can be exported.");

        /// <inheritdoc />
        public (string Output, string? LogAbsDetJacobian) ExportInverse(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            float alpha = nn.functional.softplus(rawAlpha).to_type(ScalarType.Float32).item<float>();
            float beta = (nn.functional.softplus(rawBeta).to_type(ScalarType.Float32).item<float>()) - alpha;
            string difference = graph.Sub(input, graph.State(stateKeyPrefix + "center"));
            string r = graph.Node("Sqrt", new[] { graph.SumOverFeatures(graph.Mul(difference, difference)) });
            string h = graph.Node("Reciprocal", new[] { graph.Add(r, graph.Constant(alpha)) });
            string betaH = graph.Mul(h, graph.Constant(beta));
            string output = graph.Add(input, graph.Mul(graph.Node("Reshape", new[] { betaH, graph.Constant(new long[] { -1, 1 }) }), difference));
            string onePlus = graph.Add(graph.Constant(1f), betaH);
            string logDet = graph.Add(graph.Mul(graph.Node("Log", new[] { onePlus }), graph.Constant((float)(Dimension - 1))),
                graph.Node("Log", new[] { graph.Sub(onePlus, graph.Mul(graph.Mul(graph.Mul(h, h), r), graph.Constant(beta))) }));
            return (output, logDet);
        }

        /// <inheritdoc />
        public ComponentDescription Describe() => new(TypeName, new JsonObject { ["dimension"] = Dimension });

        internal static RadialLayer Create(JsonObject settings) => new(settings["dimension"]!.GetValue<int>());
    }
}
