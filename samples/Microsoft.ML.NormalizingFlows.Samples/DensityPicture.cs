using ScottPlot;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>Pictures of 2-D densities: a heat map of a log-density on a grid with points over it, or two point clouds.</summary>
    internal static class DensityPicture
    {
        private const int GridSize = 200;

        /// <summary>
        /// A heat map of <c>exp(logDensity)</c> (or of the log-density itself, clipped 12 nats below its top, when
        /// <paramref name="logColors"/>) over the points' range (15% margin) with the points in white.
        /// </summary>
        public static void HeatMapWithPoints(string path, Func<Tensor, Tensor> logDensity, double[] xs, double[] ys,
            string xLabel, string yLabel, string title, bool logColors = false)
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
            float[] density;
            using (NewDisposeScope())
            using (no_grad())
                density = logDensity(tensor(grid, new long[] { GridSize * GridSize, 2 })).to_type(ScalarType.Float32).data<float>().ToArray();
            double top = density.Where(float.IsFinite).Max();
            var intensities = new double[GridSize, GridSize];
            for (int r = 0; r < GridSize; r++)
                for (int c = 0; c < GridSize; c++)
                {
                    double value = density[r * GridSize + c];
                    intensities[r, c] = logColors ? Math.Max(double.IsFinite(value) ? value : top - 12, top - 12) : Math.Exp(value);
                }

            var plot = new Plot();
            plot.Title(title);
            plot.XLabel(xLabel);
            plot.YLabel(yLabel);
            var heatmap = plot.Add.Heatmap(intensities);
            heatmap.Extent = new CoordinateRect(x0, x1, y0, y1);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(heatmap).Label = logColors ? "log density" : "density";
            var points = plot.Add.ScatterPoints(xs, ys);
            points.Color = Colors.White;
            points.MarkerSize = 3;
            plot.SavePng(path, 900, 700);
        }

        /// <summary>Two point clouds on the first two coordinates (for data of more than two columns).</summary>
        public static void TwoClouds(string path, (double[] Xs, double[] Ys, string Label) first, (double[] Xs, double[] Ys, string Label) second,
            string xLabel, string yLabel, string title)
        {
            var plot = new Plot();
            plot.Title(title);
            plot.XLabel(xLabel);
            plot.YLabel(yLabel);
            foreach (var (xs, ys, label) in new[] { first, second })
            {
                var cloud = plot.Add.ScatterPoints(xs, ys);
                cloud.LegendText = label;
                cloud.MarkerSize = 4;
            }
            plot.ShowLegend();
            plot.SavePng(path, 900, 700);
        }

        /// <summary>Column <paramref name="column"/> of row-major rows of width <paramref name="width"/>.</summary>
        public static double[] Column(float[] rows, int width, int column) =>
            Enumerable.Range(0, rows.Length / width).Select(i => (double)rows[i * width + column]).ToArray();

        private static (double Low, double High) Range(double[] values)
        {
            double low = values.Min(), high = values.Max(), margin = 0.15 * (high - low);
            return (low - margin, high + margin);
        }
    }
}
