using Microsoft.ML.NormalizingFlows.Onnx;

namespace Microsoft.ML.NormalizingFlows.Conditioners
{
    public sealed partial class MultilayerPerceptron
    {
        /// <summary>Writes the network as Gemm (+ Relu) nodes over its state tensors under <paramref name="stateKeyPrefix"/>.</summary>
        internal string Export(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            string[] names = named_parameters().Select(p => p.name).ToArray();
            string hidden = input;
            for (int k = 0; k < names.Length; k += 2)
            {
                hidden = graph.Node("Gemm", new[] { hidden, graph.State(stateKeyPrefix + names[k]), graph.State(stateKeyPrefix + names[k + 1]) }, ("transB", 1));
                if (k + 2 < names.Length) hidden = graph.Node("Relu", new[] { hidden });
            }
            return hidden;
        }
    }

    public sealed partial class Made
    {
        /// <summary>Writes the network; each masked weight is a Mul of two initializers, which ONNX Runtime folds at load.</summary>
        internal string Export(OnnxGraph graph, string input, string stateKeyPrefix)
        {
            string Linear(int i, string x) => graph.Node("Gemm", new[]
            {
                x,
                graph.Mul(graph.State($"{stateKeyPrefix}layers.{i}.weight"), graph.State($"{stateKeyPrefix}layers.{i}.mask")),
                graph.State($"{stateKeyPrefix}layers.{i}.bias"),
            }, ("transB", 1));
            string Relu(string x) => graph.Node("Relu", new[] { x });

            int last = Layers.Count - 1;
            string h = Linear(0, input);
            if (Residual)
            {
                for (int i = 1; i < last; i += 2) h = graph.Add(h, Linear(i + 1, Relu(Linear(i, Relu(h)))));
            }
            else
            {
                for (int i = 1; i < last; i++) h = Linear(i, Relu(h));
            }
            return Linear(last, Relu(h));
        }
    }
}
