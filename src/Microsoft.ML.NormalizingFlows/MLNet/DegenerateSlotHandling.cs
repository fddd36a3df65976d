namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// What fitting does with a slot the training rows determine exactly (it has no density): a slot constant in every
    /// row, or a slot that repeats another slot in every row (found when the rows are fitted in memory).
    /// </summary>
    public enum DegenerateSlotHandling
    {
        /// <summary>
        /// Model the other slots and such a slot as a point mass (the default): a row that holds its value (the constant,
        /// or the slot it repeats) has the density of its other slots; a row that deviates loses 1e6 nats per such slot.
        /// The log names the slots.
        /// </summary>
        PointMass,

        /// <summary>Throw an exception naming the slots and how to drop them.</summary>
        Throw,
    }
}
