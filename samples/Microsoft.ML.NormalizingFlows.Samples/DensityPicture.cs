using ScottPlot;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// Draws a flow's density over the data: a heat map of the density on a grid with the data as points (two columns),
    /// or, for more columns, the first two columns of the data and of as many flow samples.
    /// </summary>
    internal static class DensityPicture
    {
        private const int GridSize = 200;

        public static void Write(string path, NormalizingFlow flow, float[] values, string[] columns, string title)
        {
            int d = columns.Length;
            double[] xs = Enumerable.Range(0, values.Length / d).Select(i => (double)values[i * d]).ToArray();
            double[] ys = d > 1 ? Enumerable.Range(0, values.Length / d).Select(i => (double)values[i * d + 1]).ToArray() : new double[xs.Length];
            var plot = new Plot();
            plot.Title($"Normalizing flow fitted to {title}");
            plot.XLabel(columns[0]);
            plot.YLabel(d > 1 ? columns[1] : "");

            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            if (d == 2)
            {
                (double x0, double x1) = Range(xs);
                (double y0, double y1) = Range(ys);
                var grid = new float[GridSize * GridSize * 2];
                for (int r = 0; r < GridSize; r++)
                    for (int c = 0; c < GridSize; c++)
                    {
                        int k = r * GridSize + c;
                        grid[2 * k] = (float)(x0 + (c + 0.5) * (x1 - x0) / GridSize);
                        grid[2 * k + 1] = (float)(y1 - (r + 0.5) * (y1 - y0) / GridSize); // row 0 is drawn at the top
                    }
                float[] density = flow.LogDensity(tensor(grid, new long[] { GridSize * GridSize, 2 }).to_type(flow.ElementType))
                    .exp().to_type(ScalarType.Float32).data<float>().ToArray();
                var intensities = new double[GridSize, GridSize];
                for (int r = 0; r < GridSize; r++)
                    for (int c = 0; c < GridSize; c++) intensities[r, c] = density[r * GridSize + c];
                var heatmap = plot.Add.Heatmap(intensities);
                heatmap.Extent = new CoordinateRect(x0, x1, y0, y1);
                heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
                plot.Add.ColorBar(heatmap).Label = "density";
                var points = plot.Add.ScatterPoints(xs, ys);
                points.Color = Colors.White;
                points.MarkerSize = 4;
                plot.Title("Learned density (heat map) and the data (white)");
            }
            else
            {
                float[] samples = flow.Sample(xs.Length, new Generator().manual_seed(0)).to_type(ScalarType.Float32).data<float>().ToArray();
                var generated = plot.Add.ScatterPoints(
                    Enumerable.Range(0, xs.Length).Select(i => (double)samples[i * d]).ToArray(),
                    d > 1 ? Enumerable.Range(0, xs.Length).Select(i => (double)samples[i * d + 1]).ToArray() : new double[xs.Length]);
                generated.LegendText = "flow samples";
                generated.MarkerSize = 4;
                var data = plot.Add.ScatterPoints(xs, ys);
                data.LegendText = "data";
                data.MarkerSize = 4;
                plot.ShowLegend();
            }
            plot.SavePng(path, 900, 700);
        }

        private static (double Low, double High) Range(double[] values)
        {
            double low = values.Min(), high = values.Max(), margin = 0.15 * (high - low);
            return (low - margin, high + margin);
        }
    }
}
