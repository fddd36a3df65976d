namespace Microsoft.ML.NormalizingFlows.Samples
{
    /// <summary>
    /// A shipped table used for anomaly detection: its file (under data/, embedded in the sample), its label column and
    /// which label values are the anomalies. The anomaly sample and the anomaly benchmark read these definitions.
    /// </summary>
    internal sealed record AnomalyDataSet(string Name, string File, string LabelColumn, Func<float, bool> IsAnomaly)
    {
        /// <summary>The tables of the anomaly sample.</summary>
        public static readonly AnomalyDataSet[] Tables =
        {
            new("breast cancer (benign normal, malignant anomalous)", "breast_cancer.csv", "malignant", v => v == 1),
            new("wine (cultivars 0 and 1 normal, cultivar 2 anomalous)", "wine.csv", "cultivar", v => v == 2),
        };

        /// <summary>Digits 1 to 9 normal, 0 anomalous: 64 integer pixels, several of them constant among the normal rows.</summary>
        public static readonly AnomalyDataSet Digits = new("digits (1 to 9 normal, 0 anomalous)", "digits.csv", "digit", v => v == 0);

        /// <summary>The name's first word, for table rows.</summary>
        public string ShortName => Name.Split(' ')[0];
    }
}
