using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    /// <summary>A user's table with every kind of column a flow reads.</summary>
    public sealed class CustomerRow
    {
        /// <summary>An integer column.</summary>
        public int Age;

        /// <summary>A real column that depends on age.</summary>
        public float Income;

        /// <summary>A Double column holding only whole numbers (treated as an integer).</summary>
        public double Visits;

        /// <summary>A vector column.</summary>
        [VectorType(2)]
        public float[] Position = new float[2];

        /// <summary>A text category.</summary>
        public string City = "";

        /// <summary>A boolean category.</summary>
        public bool Member;
    }

    /// <summary>A labelled row of a 3-D class mixture.</summary>
    public sealed class ClassRow
    {
        /// <summary>The class.</summary>
        public string Class = "";

        /// <summary>The values.</summary>
        [VectorType(3)]
        public float[] Features = new float[3];
    }

    internal static class TableRows
    {
        public static readonly string[] Cities = { "Oslo", "Lima", "Pune" };
        public static readonly double[] CityShares = { 0.5, 0.3, 0.2 };

        public static List<CustomerRow> Customers(int count, int seed)
        {
            var random = new Random(seed);
            var rows = new List<CustomerRow>(count);
            for (int i = 0; i < count; i++)
            {
                double u = random.NextDouble();
                int city = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
                int age = Math.Clamp((int)Math.Round(40 + 12 * Synthetic.Normal(random)), 18, 90);
                rows.Add(new CustomerRow
                {
                    Age = age,
                    Income = (float)(20 + 0.8 * age + 10 * city + 5 * Synthetic.Normal(random)),
                    Visits = Math.Floor(3 * random.NextDouble() + (city == 2 ? 3 : 0)),
                    Position = new[] { (float)Synthetic.Normal(random), (float)(city + 0.3 * Synthetic.Normal(random)) },
                    City = Cities[city],
                    Member = random.NextDouble() < (city == 0 ? 0.7 : 0.2),
                });
            }
            return rows;
        }

        /// <summary>Class c has mean (3c, -2c, c) and standard deviations (0.5 + c/2, 1, 1.5 - c/2), in proportions 0.5, 0.3, 0.2.</summary>
        public static List<ClassRow> Classes(int count, int seed)
        {
            var random = new Random(seed);
            var rows = new List<ClassRow>(count);
            for (int i = 0; i < count; i++)
            {
                double u = random.NextDouble();
                int c = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
                rows.Add(new ClassRow
                {
                    Class = "c" + c,
                    Features = new[]
                    {
                        (float)(3 * c + (0.5 + c / 2.0) * Synthetic.Normal(random)),
                        (float)(-2 * c + Synthetic.Normal(random)),
                        (float)(c + (1.5 - c / 2.0) * Synthetic.Normal(random)),
                    },
                });
            }
            return rows;
        }

        public static (double[] Mean, double[] Deviation) Moments(IReadOnlyList<float[]> rows)
        {
            int d = rows[0].Length;
            var mean = new double[d];
            var deviation = new double[d];
            foreach (float[] row in rows)
                for (int j = 0; j < d; j++) mean[j] += row[j] / (double)rows.Count;
            foreach (float[] row in rows)
                for (int j = 0; j < d; j++) deviation[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / (rows.Count - 1);
            return (mean, deviation.Select(Math.Sqrt).ToArray());
        }
    }
}
