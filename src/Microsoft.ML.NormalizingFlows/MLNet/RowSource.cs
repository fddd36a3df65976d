using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tabular;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Reads the columns a fitted flow needs from one row: the feature vector of a plain flow, or the user's columns
    /// encoded by a tabular model (integers at the middle of their unit cell, categories as a context and a log-probability).
    /// </summary>
    internal sealed class RowSource
    {
        private readonly DataViewRow row;
        private readonly string featureName;
        private readonly ValueGetter<VBuffer<float>>? featureGetter;
        private readonly RowEncoder? encoder;
        private VBuffer<float> featureBuffer;

        public RowSource(DataViewRow row, FlowOutputSchema schema, TabularModel? tabular)
        {
            this.row = row;
            featureName = schema.Needed[0].Name;
            if (tabular is null) featureGetter = row.GetGetter<VBuffer<float>>(schema.Needed[0]);
            else encoder = tabular.Codec.Bind(row, midpoint: true);
        }

        public long Position => row.Position;

        /// <summary>Writes the row's flow values and context; returns the log-probability of its categories (NaN when a value is NaN or infinite).</summary>
        public double Read(Span<float> data, Span<float> context)
        {
            if (encoder is not null) return encoder.Encode(data, context, out double logMass) ? logMass : double.NaN;
            featureGetter!(ref featureBuffer);
            FeatureColumn.CopyRow(featureBuffer, data, featureName, row.Position);
            return 0;
        }
    }
}
