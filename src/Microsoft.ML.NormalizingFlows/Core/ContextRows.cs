using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>The one check of a conditional map's context: present, and <c>[rows, width]</c>.</summary>
    internal static class ContextRows
    {
        public static void Check([System.Diagnostics.CodeAnalysis.NotNull] Tensor? context, int width, long rows, string owner)
        {
            if (context is null)
                throw new ArgumentException($"{owner} is conditional: pass a context of shape [N, {width}] with the rows.", nameof(context));
            if (context.dim() != 2 || context.shape[0] != rows || context.shape[1] != width)
                throw new ArgumentException($"{owner} expects a context of shape [{rows}, {width}] but got [{string.Join(", ", context.shape)}].", nameof(context));
        }
    }
}
