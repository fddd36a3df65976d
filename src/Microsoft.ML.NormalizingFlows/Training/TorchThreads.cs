using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>
    /// Holds TorchSharp's intra-op thread count (a process-wide libtorch setting) for a fit that asks for one, and
    /// restores the host's count when the last holder leaves. Fits asking for the same count run together; a fit asking
    /// for another count waits until they end, so no fit's count changes under it. A fit that asks for none
    /// (<c>null</c>) leaves the setting alone and does not wait. A fit started inside another on the same thread (from a
    /// callback) runs at the outer fit's count.
    /// </summary>
    internal readonly struct TorchThreads : IDisposable
    {
        private static readonly object Gate = new();
        private static int holders;
        private static int heldCount;
        private static int hostCount;

        [ThreadStatic]
        private static int depth;

        private readonly bool entered;

        private TorchThreads(bool entered) => this.entered = entered;

        public static TorchThreads Use(int? threads)
        {
            if (threads is not int count) return default;
            lock (Gate)
            {
                if (depth == 0)
                {
                    while (holders > 0 && heldCount != count) Monitor.Wait(Gate);
                    if (holders == 0)
                    {
                        hostCount = get_num_threads();
                        if (hostCount != count) set_num_threads(count);
                        heldCount = count;
                    }
                }
                holders++;
                depth++;
            }
            return new TorchThreads(entered: true);
        }

        public void Dispose()
        {
            if (!entered) return;
            lock (Gate)
            {
                depth--;
                if (--holders > 0) return;
                if (hostCount > 0 && get_num_threads() != hostCount) set_num_threads(hostCount);
                Monitor.PulseAll(Gate);
            }
        }
    }
}
