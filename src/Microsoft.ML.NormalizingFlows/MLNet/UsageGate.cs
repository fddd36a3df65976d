namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// Guards native resources against use after disposal: any number of callers may be inside at once; <see cref="Close"/>
    /// waits until they have left and lets nobody in afterwards, so a call that races a <c>Dispose</c> either finishes on
    /// live resources or throws <see cref="ObjectDisposedException"/>, never touches freed memory.
    /// </summary>
    internal sealed class UsageGate
    {
        private readonly object sync = new();
        private readonly string owner;
        private int inside;
        private bool closed;

        public UsageGate(string owner) => this.owner = owner;

        public bool IsClosed
        {
            get
            {
                lock (sync) return closed;
            }
        }

        /// <summary>Enters; dispose the result to leave.</summary>
        /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
        public Lease Enter()
        {
            lock (sync)
            {
                ObjectDisposedException.ThrowIf(closed, owner);
                inside++;
            }
            return new Lease(this);
        }

        /// <summary>Closes the gate and waits for everyone inside; returns false when it was closed already.</summary>
        public bool Close()
        {
            lock (sync)
            {
                if (closed) return false;
                closed = true;
                while (inside > 0) Monitor.Wait(sync);
                return true;
            }
        }

        private void Leave()
        {
            lock (sync)
            {
                if (--inside == 0) Monitor.PulseAll(sync);
            }
        }

        public readonly struct Lease : IDisposable
        {
            private readonly UsageGate? gate;

            internal Lease(UsageGate gate) => this.gate = gate;

            public void Dispose() => gate?.Leave();
        }
    }
}
