using Microsoft.ML;

namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// Early-stopping patience worth a number of epochs, in the optimizer steps the library counts it in: the samples keep
    /// the patience they were tuned with (and their README figures) with per-epoch validation.
    /// </summary>
    internal static class Patience
    {
        public static long Epochs(int epochs, IDataView train, double validationFraction, int batchSize)
        {
            long rows = 0;
            using (DataViewRowCursor cursor = train.GetRowCursor(Array.Empty<DataViewSchema.Column>()))
                while (cursor.MoveNext()) rows++;
            long trainingRows = rows - (long)Math.Floor(rows * validationFraction);
            return epochs * ((trainingRows + batchSize - 1) / batchSize);
        }
    }
}
