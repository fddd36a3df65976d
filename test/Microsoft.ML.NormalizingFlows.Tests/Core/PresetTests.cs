using Microsoft.ML.NormalizingFlows.Layers;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    /// <summary>Each preset, trained briefly on two moons: a normalized density, consistent sampling, a faithful file.</summary>
    [TestClass]
    public sealed class PresetTests
    {
        public static IEnumerable<object[]> Presets() => Enum.GetValues<FlowPreset>().Where(p => p != FlowPreset.Auto).Select(p => new object[] { p });

        private static NormalizingFlow Train(FlowPreset preset)
        {
            float[] values = Synthetic.TwoMoons(1500, 0.1, seed: 2);
            Tensor data = tensor(values, new long[] { 1500, 2 });
            Tensor mean = data.mean(new long[] { 0 }), std = data.std(0);
            var standardization = new Standardization(mean.to_type(ScalarType.Float64).data<double>().ToArray(), std.to_type(ScalarType.Float64).data<double>().ToArray());
            NormalizingFlow flow = FlowFactory.Create(2, new FlowArchitecture
            {
                Preset = preset, NumberOfLayers = 4, HiddenUnits = 32, NumberOfBins = 6, ActNorm = preset == FlowPreset.MaskedAutoregressive,
            }, seed: 3, standardization);
            MaximumLikelihoodTrainer.Fit(flow, data.narrow(0, 0, 1300), data.narrow(0, 1300, 200),
                new MaximumLikelihoodOptions { MaxEpochs = 25, BatchSize = 128, LearningRate = 3e-3, Seed = 1 });
            return flow;
        }

        [TestMethod]
        [DynamicData(nameof(Presets))]
        public void TheTrainedDensityIntegratesToOne(FlowPreset preset)
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = Train(preset);
            const int n = 500;
            double x0 = -3, x1 = 4, y0 = -2.5, y1 = 3, hx = (x1 - x0) / n, hy = (y1 - y0) / n;
            var grid = new float[n * n * 2];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    grid[2 * (i * n + j)] = (float)(x0 + (i + 0.5) * hx);
                    grid[2 * (i * n + j) + 1] = (float)(y0 + (j + 0.5) * hy);
                }
            double integral;
            using (no_grad())
                integral = flow.LogDensity(tensor(grid, new long[] { n * n, 2 })).to_type(ScalarType.Float64).exp().sum().item<double>() * hx * hy;
            Console.WriteLine($"{preset}: integral {integral:F5}");
            Assert.AreEqual(1.0, integral, 0.01, $"{preset}: integral of the density = {integral}");
        }

        [TestMethod]
        [DynamicData(nameof(Presets))]
        public void TheLatentOfASampleIsTheNoiseItCameFromAndFilesRebuildTheFlow(FlowPreset preset)
        {
            using var scope = NewDisposeScope();
            using NormalizingFlow flow = Train(preset);
            Tensor noise = randn(300, 2, generator: new Generator().manual_seed(8));
            using var noGrad = no_grad();
            (Tensor samples, Tensor logDensity) = flow.FromLatent(noise);
            Assert.IsTrue((flow.ToLatent(samples) - noise).abs().max().item<float>() <= 1e-4, $"{preset}: latent of a sample differs from its noise");
            Assert.IsTrue((flow.LogDensity(samples) - logDensity).abs().max().item<float>() <= 1e-3, $"{preset}: sample log-density differs from scoring");

            (NormalizingFlow rebuilt, _) = FlowOnnx.LoadFlow(FlowOnnx.ExportDensity(flow), preset.ToString());
            using (rebuilt)
                Assert.AreEqual(0f, (rebuilt.LogDensity(samples) - flow.LogDensity(samples)).abs().max().item<float>(), $"{preset}: the rebuilt flow scores differently");
        }
    }
}
