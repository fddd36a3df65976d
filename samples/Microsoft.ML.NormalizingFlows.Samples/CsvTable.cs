using System.Globalization;
using System.Reflection;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>A numeric CSV table with a header row: the embedded wine data or a user's file.</summary>
    internal sealed class CsvTable
    {
        private CsvTable(string name, string[] header, List<float[]> rows)
        {
            Name = name;
            Header = header;
            Rows = rows;
        }

        public string Name { get; }

        public string[] Header { get; }

        public List<float[]> Rows { get; }

        public static CsvTable Load(string? path)
        {
            if (path is null) return Embedded("wine.csv", "wine (embedded, UCI, CC BY 4.0)");
            using var reader = new StreamReader(path);
            return Parse(path, reader);
        }

        /// <summary>A data set embedded in the sample assembly.</summary>
        public static CsvTable Embedded(string resource, string name)
        {
            using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The embedded {resource} is missing from the sample assembly.");
            return Parse(name, new StreamReader(stream));
        }

        /// <summary>The chosen columns of every row, row-major.</summary>
        public float[] Select(string[] columns)
        {
            int[] indices = columns.Select(c => Array.IndexOf(Header, c) is int i && i >= 0 ? i
                : throw new ArgumentException($"Column '{c}' is not in {Name}; it has: {string.Join(", ", Header)}.")).ToArray();
            return Rows.SelectMany(row => indices.Select(i => row[i])).ToArray();
        }

        private static CsvTable Parse(string name, TextReader reader)
        {
            string[] header = (reader.ReadLine() ?? throw new ArgumentException($"{name} is empty.")).Split(',').Select(h => h.Trim()).ToArray();
            var rows = new List<float[]>();
            for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            {
                if (line.Length == 0) continue;
                string[] cells = line.Split(',');
                if (cells.Length != header.Length)
                    throw new ArgumentException($"{name}, data line {rows.Count + 1}: {cells.Length} cells but the header has {header.Length}.");
                rows.Add(cells.Select(c => float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : float.NaN).ToArray());
            }
            return new CsvTable(name, header, rows);
        }
    }
}
