using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>
    /// Where a maximum-likelihood fit gets its rows: shuffled training batches each epoch and validation batches in
    /// order. Each batch is a new tensor that the fit disposes after use.
    /// </summary>
    internal interface ITrainingBatches
    {
        /// <summary>Training rows per epoch.</summary>
        long TrainingRows { get; }

        /// <summary>Whether there are validation rows.</summary>
        bool HasValidation { get; }

        /// <summary>One epoch's training rows in shuffled batches of at most <paramref name="batchSize"/> rows.</summary>
        IEnumerable<Tensor> Epoch(int epoch, int batchSize, Generator generator);

        /// <summary>The validation rows in batches.</summary>
        IEnumerable<Tensor> Validation(int batchSize);
    }

    /// <summary>Rows held in tensors: each epoch draws a permutation from the fit's generator and gathers its batches.</summary>
    internal sealed class TensorBatches : ITrainingBatches
    {
        private readonly Tensor train;
        private readonly Tensor? validation;

        public TensorBatches(Tensor train, Tensor? validation)
        {
            this.train = train;
            this.validation = validation is null || validation.shape[0] == 0 ? null : validation;
        }

        public long TrainingRows => train.shape[0];

        public bool HasValidation => validation is not null;

        public IEnumerable<Tensor> Epoch(int epoch, int batchSize, Generator generator)
        {
            long rows = train.shape[0];
            using Tensor order = randperm(rows, generator: generator);
            for (long start = 0; start < rows; start += batchSize)
            {
                using Tensor indices = order.narrow(0, start, Math.Min(batchSize, rows - start));
                yield return train.index_select(0, indices);
            }
        }

        public IEnumerable<Tensor> Validation(int batchSize)
        {
            if (validation is null) yield break;
            long rows = validation.shape[0];
            for (long start = 0; start < rows; start += batchSize)
                yield return validation.narrow(0, start, Math.Min(batchSize, rows - start));
        }
    }
}
