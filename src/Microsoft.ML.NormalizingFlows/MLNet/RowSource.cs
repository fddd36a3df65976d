using Microsoft.ML.Data;
using Microsoft.ML.NormalizingFlows.Tabular;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Reads the columns a fitted flow needs from one row: the feature vector of a plain flow, or the user's columns
    /// encoded by a tabular model as its density graph reads them (values as they are, categories one-hot in a context).
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
            else encoder = tabular.Codec.Bind(row, raw: true);
        }

        public long Position => row.Position;

        /// <summary>Writes the row's flow values and context; NaN values where a numeric value is NaN or infinite (its log-density is then NaN).</summary>
        public void Read(Span<float> data, Span<float> context)
        {
            if (encoder is not null)
            {
                if (!encoder.Encode(data, context)) data.Fill(float.NaN);
                return;
            }
            featureGetter!(ref featureBuffer);
            FeatureColumn.CopyRow(featureBuffer, data, featureName, row.Position);
        }
    }
}
