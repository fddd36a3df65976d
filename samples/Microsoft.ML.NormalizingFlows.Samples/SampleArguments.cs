namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>Command-line options of the sample program.</summary>
    internal sealed record SampleArguments(string? DataPath, string[] Columns, string OutputFolder, int MaxEpochs, int Seed, double AverageDecay = 0)
    {
        public const int DefaultEpochs = 400;

        public const string Usage =
            "usage: dotnet run --project samples/Microsoft.ML.NormalizingFlows.Samples -- " +
            "[vi|anomaly|synthetic] [--data file.csv] [--columns a,b,...] [--output folder] [--epochs n] [--seed n] [--average-decay x]\n" +
            "  defaults: the embedded wine data, columns flavanoids,proline, output samples/output, 400 epochs, seed 0, no parameter averaging (anomaly)";

        public static SampleArguments Parse(string[] args)
        {
            var result = new SampleArguments(null, new[] { "flavanoids", "proline" }, Path.Combine("samples", "output"), DefaultEpochs, 0);
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                result = args[i] switch
                {
                    "--data" => result with { DataPath = Value() },
                    "--columns" => result with { Columns = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                    "--output" => result with { OutputFolder = Value() },
                    "--epochs" => result with { MaxEpochs = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture) },
                    "--seed" => result with { Seed = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture) },
                    "--average-decay" => result with { AverageDecay = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"Unknown argument '{args[i]}'."),
                };
            }
            if (result.Columns.Length == 0) throw new ArgumentException("--columns needs at least one column name.");
            return result;
        }
    }
}
