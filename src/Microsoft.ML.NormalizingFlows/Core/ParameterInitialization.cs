using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// The random draws that initialize the library's layers. Inside <see cref="Seeded"/> (what <see cref="FlowFactory"/>
    /// uses) they come from a generator of that seed, private to the calling thread, so a seed gives the same flow
    /// whatever else the process does, also when flows are built on several threads at once, and TorchSharp's global
    /// generator is never seeded. Outside it (layers a user builds directly) they come from TorchSharp's global generator,
    /// as any TorchSharp module's do.
    /// </summary>
    internal static class ParameterInitialization
    {
        [ThreadStatic]
        private static Generator? current;

        /// <summary>Draws from a generator seeded with <paramref name="seed"/> on this thread until the scope is disposed.</summary>
        public static Scope Seeded(long seed)
        {
            Generator? previous = current;
            current = new Generator().manual_seed(seed);
            return new Scope(previous);
        }

        /// <summary>Uniform on <c>[-bound, bound]</c> (PyTorch's default for linear layers uses bound = 1/sqrt(fan-in)).</summary>
        public static Tensor Uniform(long[] shape, double bound) => (rand(shape, generator: current) * 2 - 1) * bound;

        /// <summary>Normal with mean 0 and standard deviation <paramref name="scale"/>.</summary>
        public static Tensor Normal(long[] shape, double scale) => randn(shape, generator: current) * scale;

        /// <summary>Restores the previous generator (none, or an enclosing scope's) and releases this one.</summary>
        public readonly struct Scope : IDisposable
        {
            private readonly Generator? previous;

            internal Scope(Generator? previous) => this.previous = previous;

            public void Dispose()
            {
                current?.Dispose();
                current = previous;
            }
        }
    }
}
