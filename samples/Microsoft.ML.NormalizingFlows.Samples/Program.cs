namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>Runs the samples. With no arguments: the density of two wine measurements (the embedded default data).</summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            try
            {
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
