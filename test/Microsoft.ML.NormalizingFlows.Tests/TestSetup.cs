using static TorchSharp.torch;

[assembly: DoNotParallelize]

namespace Microsoft.ML.NormalizingFlows.Tests
{
    /// <summary>Every test runs TorchSharp on one thread.</summary>
    [TestClass]
    public static class TestSetup
    {
        [AssemblyInitialize]
        public static void Initialize(TestContext context)
        {
            set_num_threads(1);
        }
    }
}
