namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>What fitting does with a training row that holds NaN or an infinity.</summary>
    public enum InvalidRowHandling
    {
        /// <summary>Throw an exception naming the column and the row (the default).</summary>
        Throw,

        /// <summary>Leave the row out of training and report how many rows were left out in the log.</summary>
        Skip,
    }

    /// <summary>The floating-point type a flow trains and scores in.</summary>
    public enum FlowPrecision
    {
        /// <summary>32-bit floats (the default; faster).</summary>
        Single,

        /// <summary>64-bit floats for training (slower; for very wide value ranges or exact checks); scoring stays float32.</summary>
        Double,
    }
}
