using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Tests.Core
{
    [TestClass]
    public sealed class TorchSharpLoadsTests
    {
        [TestMethod]
        public void TorchSharpInitializesAndComputesOnCpu()
        {
            using var scope = NewDisposeScope();
            Tensor x = arange(1, 5, dtype: ScalarType.Float32).requires_grad_(true);
            Tensor y = (x * x).sum();
            y.backward();
            Assert.AreEqual(30f, y.item<float>());
            CollectionAssert.AreEqual(new[] { 2f, 4f, 6f, 8f }, x.grad!.data<float>().ToArray());
        }

        [TestMethod]
        public void NativeShimInOutputFolderLoadsOnThisSystem()
        {
            // The build fixes the copy of libLibTorchSharp.so next to the test assembly when the system C++ runtime is
            // older than the one it was linked against; TorchSharp must then load it from there, not from a fallback.
            string folder = AppContext.BaseDirectory;
            Assert.IsTrue(File.Exists(Path.Combine(folder, "libLibTorchSharp.so")), "The native shim is not in the output folder.");
            Assert.IsFalse(Directory.Exists(Path.Combine(folder, "cpu")), "TorchSharp fell back to copying libtorch into <output>/cpu: the native load failed once.");
            using Tensor t = ones(3);
            Assert.AreEqual(3f, t.sum().item<float>());
        }
    }
}
