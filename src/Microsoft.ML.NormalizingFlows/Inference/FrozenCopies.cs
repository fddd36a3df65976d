using System.Runtime.CompilerServices;
using Microsoft.ML.NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>
    /// A copy of a flow whose parameters follow the original's values without taking part in its gradients: what the
    /// sticking-the-landing estimator evaluates <c>log q</c> with. Rebuilt from the flow's description once per flow and
    /// refreshed with a copy of the values at every call.
    /// </summary>
    internal static class FrozenCopies
    {
        private static readonly ConditionalWeakTable<NormalizingFlow, NormalizingFlow> Copies = new();

        public static NormalizingFlow Of(NormalizingFlow flow)
        {
            NormalizingFlow copy = Copies.GetValue(flow, Build);
            using var noGrad = no_grad();
            var source = flow.state_dict();
            foreach ((string key, Tensor target) in copy.state_dict()) target.copy_(source[key]);
            return copy;
        }

        private static NormalizingFlow Build(NormalizingFlow flow)
        {
            NormalizingFlow copy;
            try
            {
                copy = FlowOnnx.Rebuild(FlowOnnx.Describe(flow), initializers: null);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException("The sticking-the-landing estimator evaluates log q with a frozen copy of the flow, which needs " +
                    "every layer to be describable (IOnnxExportableLayer) and invertible: " + e.Message, e);
            }
            copy.to(flow.ElementType);
            foreach (var p in copy.parameters()) p.requires_grad_(false);
            copy.eval();
            return copy;
        }
    }
}
