using Microsoft.ML.Data;

namespace Microsoft.ML.NormalizingFlows.Tests.Tabular
{
    [TestClass]
    public sealed class GenerateTests
    {
        internal static readonly string[] CustomerColumns =
            { nameof(CustomerRow.Age), nameof(CustomerRow.Income), nameof(CustomerRow.Visits), nameof(CustomerRow.Position), nameof(CustomerRow.City), nameof(CustomerRow.Member) };

        internal static NormalizingFlowEstimator.Options Small(int epochs) => new()
        {
            NumberOfLayers = 3, HiddenUnits = 32, MaxEpochs = epochs, BatchSize = 256, LearningRate = 3e-3, Seed = 3, NumberOfThreads = 1,
        };

        [TestMethod]
        public void GeneratedRowsHaveTheInputColumnsWithIntegersInRangeAndCategoryFrequencies()
        {
            var ml = new MLContext(seed: 0);
            List<CustomerRow> customers = TableRows.Customers(4000, seed: 1);
            IDataView data = ml.Data.LoadFromEnumerable(customers);
            NormalizingFlowEstimator.Options options = Small(epochs: 4);
            options.InputColumnNames = CustomerColumns;
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(data);

            IDataView generated = model.Generate(10_000, seed: 5);
            Assert.AreEqual(CustomerColumns.Length, generated.Schema.Count);
            foreach (string name in CustomerColumns)
                Assert.AreEqual(data.Schema[name].Type, generated.Schema[name].Type, name);
            List<CustomerRow> rows = ml.Data.CreateEnumerable<CustomerRow>(generated, reuseRowObject: false).ToList();
            Assert.AreEqual(10_000, rows.Count);

            int minAge = customers.Min(c => c.Age), maxAge = customers.Max(c => c.Age);
            Assert.IsTrue(rows.All(r => r.Age >= minAge && r.Age <= maxAge), "ages in the observed range");
            double maxVisits = customers.Max(c => c.Visits);
            Assert.IsTrue(rows.All(r => r.Visits == Math.Floor(r.Visits) && r.Visits >= 0 && r.Visits <= maxVisits), "whole-number doubles stay whole and in range");
            Assert.IsTrue(rows.All(r => TableRows.Cities.Contains(r.City)), "only cities seen at fitting");
            for (int c = 0; c < TableRows.Cities.Length; c++)
            {
                double data_ = customers.Count(r => r.City == TableRows.Cities[c]) / (double)customers.Count;
                double synthetic = rows.Count(r => r.City == TableRows.Cities[c]) / (double)rows.Count;
                Assert.AreEqual(data_, synthetic, 0.03, $"share of {TableRows.Cities[c]}");
            }
            double memberData = customers.Count(r => r.Member) / (double)customers.Count;
            Assert.AreEqual(memberData, rows.Count(r => r.Member) / (double)rows.Count, 0.03, "share of members");
            double jointData = customers.Count(r => r.Member && r.City == "Oslo") / (double)customers.Count;
            Assert.AreEqual(jointData, rows.Count(r => r.Member && r.City == "Oslo") / (double)rows.Count, 0.03, "joint share of Oslo members");
        }

        [TestMethod]
        public void ClassConditionalGenerationMatchesEachClassMeanAndSpread()
        {
            var ml = new MLContext(seed: 0);
            List<ClassRow> train = TableRows.Classes(6000, seed: 2);
            List<ClassRow> test = TableRows.Classes(6000, seed: 3);
            NormalizingFlowEstimator.Options options = Small(epochs: 40);
            options.LearningRate = 1e-3;
            options.EarlyStoppingPatience = 0;
            options.LabelColumnName = nameof(ClassRow.Class);
            using NormalizingFlowTransformer model = ml.Transforms.NormalizingFlow(options).Fit(ml.Data.LoadFromEnumerable(train));

            for (int c = 0; c < 3; c++)
            {
                string label = "c" + c;
                List<ClassRow> generated = ml.Data.CreateEnumerable<ClassRow>(model.Generate(3000, seed: 10 + c, label: label), reuseRowObject: false).ToList();
                Assert.IsTrue(generated.All(r => r.Class == label));
                (double[] meanData, double[] sdData) = TableRows.Moments(test.Where(r => r.Class == label).Select(r => r.Features).ToList());
                (double[] meanGen, double[] sdGen) = TableRows.Moments(generated.Select(r => r.Features).ToList());
                for (int j = 0; j < 3; j++)
                {
                    Assert.AreEqual(meanData[j], meanGen[j], 0.1 * sdData[j], $"class {label} mean of slot {j}");
                    Assert.AreEqual(sdData[j], sdGen[j], 0.1 * sdData[j], $"class {label} deviation of slot {j}");
                }
            }

            List<ClassRow> mixed = ml.Data.CreateEnumerable<ClassRow>(model.Generate(10_000, seed: 4), reuseRowObject: false).ToList();
            Assert.AreEqual(0.5, mixed.Count(r => r.Class == "c0") / 10_000.0, 0.03, "classes in their proportions");
            Assert.AreEqual(0.2, mixed.Count(r => r.Class == "c2") / 10_000.0, 0.03, "classes in their proportions");
        }
    }
}
