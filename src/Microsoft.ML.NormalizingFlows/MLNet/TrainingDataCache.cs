namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>How a fit reads its training rows.</summary>
    public enum TrainingDataCache
    {
        /// <summary>In memory when the input has at most <c>ShuffleBufferSize</c> rows, streamed otherwise.</summary>
        Auto,

        /// <summary>Read once into memory and shuffled fully each epoch (the fastest for data that fits).</summary>
        Memory,

        /// <summary>Streamed from the IDataView every epoch through a bounded shuffle buffer; memory does not grow with the rows.</summary>
        Stream,
    }
}
