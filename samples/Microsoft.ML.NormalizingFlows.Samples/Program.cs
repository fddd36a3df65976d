namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// Runs the samples. With no arguments: the density of two wine measurements (the embedded default data).
    /// With <c>vi</c>: variational inference on the banana and the funnel (<c>--epochs</c> sets the steps).
    /// With <c>anomaly</c>: anomaly detection on the shipped real data sets against RandomizedPca.
    /// With <c>synthetic</c>: class-conditional synthetic data (train on synthetic, test on real; augmentation; digit pictures).
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            try
            {
                if (args.Length > 0 && args[0] == "vi")
                {
                    SampleArguments vi = SampleArguments.Parse(args[1..]);
                    return FitVariational.Example(vi.OutputFolder, vi.MaxEpochs == SampleArguments.DefaultEpochs ? 1500 : vi.MaxEpochs, vi.Seed);
                }
                if (args.Length > 0 && args[0] == "synthetic")
                    return GenerateSynthetic.Example(SampleArguments.Parse(args[1..]).OutputFolder, seeds: 3);
                if (args.Length > 0 && args[0] == "anomaly")
                {
                    SampleArguments anomaly = SampleArguments.Parse(args[1..]);
                    return DetectAnomalies.Example(anomaly.OutputFolder, seeds: 3, anomaly.AverageDecay);
                }
                return FitDensity.Example(SampleArguments.Parse(args));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine(SampleArguments.Usage);
                return 2;
            }
        }
    }
}
