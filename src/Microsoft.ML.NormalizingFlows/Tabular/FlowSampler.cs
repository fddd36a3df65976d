using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tabular
{
    /// <summary>
    /// Draws rows from a fitted flow: base noise (scaled by a temperature) shifted and scaled by the conditional base for
    /// each context row, mapped through the flow's inverse, with integer slots floored and clipped to their range.
    /// </summary>
    internal sealed class FlowSampler
    {
        private readonly Func<NormalizingFlow> flow;
        private readonly TabularModel? model;
        private readonly double[] shift;
        private readonly double[] scale;

        public FlowSampler(Func<NormalizingFlow> flow, TabularModel? model, int dimension)
        {
            this.flow = flow;
            this.model = model;
            Dimension = dimension;
            ContextWidth = model?.Codec.ContextWidth ?? 0;
            (shift, scale) = model?.Codec.ContextStandardization() ?? (Array.Empty<double>(), Array.Empty<double>());
        }

        public int Dimension { get; }

        public int ContextWidth { get; }

        /// <summary>Whether <see cref="Sample"/> reads one uniform per row besides the normal noise (an unconditional flow whose base is not a transform of normal noise alone).</summary>
        public bool ReadsUniforms => ContextWidth == 0 && flow().BaseDistribution.ReadsUniforms;

        /// <summary>
        /// Writes <paramref name="count"/> rows to <paramref name="output"/> from standard-normal <paramref name="noise"/>
        /// (<c>count * Dimension</c>), a uniform per row when <see cref="ReadsUniforms"/> (else empty), and context rows
        /// (<c>count * ContextWidth</c>, numeric context as it is in the data). The latent is a draw from the flow's base
        /// (the conditional base given each context row), the temperature scaling its noise.
        /// </summary>
        public void Sample(ReadOnlySpan<double> noise, ReadOnlySpan<double> uniforms, ReadOnlySpan<float> context, int count, double temperature, Span<float> output)
        {
            if (count == 0) return;
            int d = Dimension, k = ContextWidth;
            NormalizingFlow module = flow();
            ScalarType type = module.ElementType;
            using (var scope = NewDisposeScope())
            using (var noGrad = no_grad())
            {
                // A point-mass layer puts its slots back: the latent has only the other slots' noise.
                Tensor normal = tensor(noise[..(count * d)].ToArray(), new long[] { count, d }).narrow(1, 0, module.LatentDimension).to_type(type).to(module.Device);
                Tensor latent = k > 0 ? normal.mul(temperature)
                    : module.BaseDistribution.FromNoise(normal, ReadsUniforms ? uniforms[..count].ToArray() : Array.Empty<double>(), temperature);
                Tensor? rows = null;
                if (k > 0)
                {
                    rows = ((tensor(context[..(count * k)].ToArray(), new long[] { count, k }).to_type(ScalarType.Float64) - tensor(shift)) / tensor(scale))
                        .to_type(type).to(module.Device);
                    if (model!.BaseParameters is double[][] p)
                    {
                        Tensor Parameter(int i, params long[] shape) => tensor(p[i], shape).to_type(type).to(module.Device);
                        (Tensor mean, Tensor logScale) = ConditionalNormalizingFlow.LatentGaussian(Ops.TorchOps.Instance, rows,
                            Parameter(0, k, module.LatentDimension), Parameter(1, module.LatentDimension), Parameter(2, k, module.LatentDimension), Parameter(3, module.LatentDimension));
                        latent = mean + logScale.exp() * latent;
                    }
                }
                module.FromLatent(latent, module.ContextWidth > 0 ? rows : null).Samples.to_type(ScalarType.Float32).cpu().data<float>().CopyTo(output[..(count * d)]);
            }
            if (model is null) return;
            for (int i = 0; i < count; i++) model.Codec.DecodeData(output.Slice(i * d, d));
        }

        /// <summary>Standard-normal draws (Box-Muller) from <paramref name="random"/>.</summary>
        public static void Gaussian(Random random, Span<double> destination)
        {
            for (int i = 0; i < destination.Length; i += 2)
            {
                double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
                double angle = 2 * Math.PI * random.NextDouble();
                destination[i] = radius * Math.Cos(angle);
                if (i + 1 < destination.Length) destination[i + 1] = radius * Math.Sin(angle);
            }
        }

        /// <summary>A generator for one input row, from the seed and the row's position: the same row gets the same draw in any block or path.</summary>
        public static Random ForRow(int seed, long position) => new(unchecked((int)RowHash.Mix(seed, position)));
    }
}
