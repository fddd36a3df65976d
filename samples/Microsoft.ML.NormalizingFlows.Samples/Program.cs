namespace Microsoft.ML.NormalizingFlows.Samples { internal static class Program { private static void Main() { } } }
