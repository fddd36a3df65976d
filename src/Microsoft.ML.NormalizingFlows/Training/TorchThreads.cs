using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>Sets TorchSharp's intra-op thread count for a scope and restores the previous count when disposed.</summary>
    internal readonly struct TorchThreads : IDisposable
    {
        private readonly int previous;

        private TorchThreads(int previous) => this.previous = previous;

        public static TorchThreads Use(int? threads)
        {
            int previous = get_num_threads();
            if (threads is int count && count != previous) set_num_threads(count);
            return new TorchThreads(previous);
        }

        public void Dispose()
        {
            if (previous > 0 && get_num_threads() != previous) set_num_threads(previous);
        }
    }
}
