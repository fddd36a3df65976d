using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: LoadCheck <model.zip> <points.csv> <output.txt>
// Loads the zip with mlContext.Model.Load (no RegisterAssembly call), scores the points (columns X,Y) and writes each
// row's LogDensity and Latent values, round-trippable, one row per line.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: LoadCheck <model.zip> <points.csv> <output.txt>");
    return 2;
}
var ml = new MLContext(seed: 0);
ITransformer model = ml.Model.Load(args[0], out _);
IDataView points = ml.Data.LoadFromTextFile<Point>(args[1], separatorChar: ',', hasHeader: true);
IDataView scored = model.Transform(points);
float[] logDensity = scored.GetColumn<float>("LogDensity").ToArray();
float[][] latent = scored.GetColumn<float[]>("Latent").ToArray();
using var writer = new StreamWriter(args[2]);
for (int i = 0; i < logDensity.Length; i++)
    writer.WriteLine(string.Join(",", new[] { logDensity[i] }.Concat(latent[i]).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
// ML.NET reflects over the library's types (TorchSharp's managed assembly comes along), but no native libtorch is
// needed: this program does not even ship it.
bool libtorchLoaded = File.ReadAllText("/proc/self/maps").Contains("libtorch", StringComparison.Ordinal);
Console.WriteLine($"scored {logDensity.Length} rows; native libtorch loaded: {libtorchLoaded}");
return 0;

internal sealed class Point
{
    [LoadColumn(0)]
    public float X = 0;

    [LoadColumn(1)]
    public float Y = 0;
}
