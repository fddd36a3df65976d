using System.Text.Json.Nodes;
using Microsoft.ML.NormalizingFlows.Onnx;
using Microsoft.ML.NormalizingFlows.Splines;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Transforms
{
    /// <summary>The rational-quadratic spline with identity tails (<see cref="RationalQuadraticSpline"/>); parameters feature-major.</summary>
    internal sealed class SplineTransform : IElementwiseTransform
    {
        public SplineTransform(int bins, double tailBound)
        {
            if (bins < 2) throw new ArgumentOutOfRangeException(nameof(bins), bins, "A spline needs at least 2 bins.");
            if (!(tailBound > 0) || double.IsInfinity(tailBound))
                throw new ArgumentOutOfRangeException(nameof(tailBound), tailBound, "The tail bound must be finite and greater than 0.");
            Bins = bins;
            TailBound = tailBound;
        }

        public int Bins { get; }

        public double TailBound { get; }

        public int ParametersPerFeature => RationalQuadraticSpline.ParameterCount(Bins);

        public bool FeatureMajor => true;

        public (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor parameters, bool inverse) =>
            RationalQuadraticSpline.Apply(input, parameters.reshape(input.shape[0], input.shape[1], ParametersPerFeature), Bins, TailBound, inverse);

        // The computation of RationalQuadraticSpline.Apply with operators that mean the same from opset 11 to 17: the bin
        // search counts knots with Less/Not and a MatMul, the lookups are GatherElements, the tails a Where. Like it, the
        // arithmetic runs in float64 (Cast in and out); softplus is written out, as ONNX Runtime's Softplus is float-only.
        public (string Output, string LogAbsDet) Export(OnnxGraph graph, string input32, string parameters32, int features, bool inverse)
        {
            OnnxGraph g = graph;
            string input = graph.Node("Cast", new[] { input32 }, ("to", 11));
            string parameters = graph.Node("Cast", new[] { parameters32 }, ("to", 11));
            (string output, string logDerivative) = ExportInFloat64(g, input, parameters, features, inverse);
            return (graph.Node("Cast", new[] { output }, ("to", 1)), graph.Node("Cast", new[] { logDerivative }, ("to", 1)));
        }

        private (string Output, string LogAbsDet) ExportInFloat64(OnnxGraph g, string input, string parameters, int features, bool inverse)
        {
            int k = Bins;
            double bound = TailBound;
            string p = g.Node("Reshape", new[] { parameters, g.Constant(new long[] { 0, features, ParametersPerFeature }) });
            (string knotsX, string widths) = Knots(g, g.Slice(p, 2, 0, k));
            (string knotsY, string heights) = Knots(g, g.Slice(p, 2, k, 2 * k));
            string interior = g.Slice(p, 2, 2 * k, 3 * k - 1);
            string one = g.Node("Expand", new[] { g.Constant(1.0), g.Node("Shape", new[] { g.Slice(interior, 2, 0, 1) }) });
            // softplus(v) = max(v, 0) + log(1 + exp(-|v|)), finite for any v.
            string softplus = g.Add(g.Node("Max", new[] { interior, g.Constant(0.0) }),
                g.Node("Log", new[] { g.Add(g.Constant(1.0), g.Node("Exp", new[] { g.Node("Neg", new[] { g.Node("Abs", new[] { interior }) }) })) }));
            string derivatives = g.Node("Concat", new[] { one, g.Add(g.Constant(RationalQuadraticSpline.MinimumDerivative), softplus), one }, ("axis", 2));

            string inside = g.Node("And", new[] { g.Node("Not", new[] { g.Node("Less", new[] { input, g.Constant(-bound) }) }),
                                                  g.Node("Not", new[] { g.Node("Greater", new[] { input, g.Constant(bound) }) }) });
            string x = g.Node("Max", new[] { g.Node("Min", new[] { input, g.Constant(bound) }), g.Constant(-bound) });
            string column = g.Node("Reshape", new[] { x, g.Constant(new long[] { 0, features, 1 }) });
            string searchKnots = g.Slice(inverse ? knotsY : knotsX, 2, 1, k);
            string atOrAbove = g.Node("Cast", new[] { g.Node("Not", new[] { g.Node("Less", new[] { column, searchKnots }) }) }, ("to", 11));
            string count = g.Node("MatMul", new[] { atOrAbove, g.Constant(Enumerable.Repeat(1.0, k - 1).ToArray()) });
            string bin = g.Node("Cast", new[] { g.Node("Reshape", new[] { count, g.Constant(new long[] { 0, features, 1 }) }) }, ("to", 7));
            string nextBin = g.Add(bin, g.Constant(new[] { 1L }));
            string At(string table, string index) =>
                g.Node("Reshape", new[] { g.Node("GatherElements", new[] { table, index }, ("axis", 2)), g.Constant(new long[] { 0, features }) });

            string xk = At(knotsX, bin), wk = At(widths, bin), yk = At(knotsY, bin), hk = At(heights, bin);
            string dk = At(derivatives, bin), dk1 = At(derivatives, nextBin);
            string sk = g.Node("Div", new[] { hk, wk });
            string sum = g.Sub(g.Add(dk1, dk), g.Mul(sk, g.Constant(2.0)));
            string Clamp01(string v) => g.Node("Max", new[] { g.Node("Min", new[] { v, g.Constant(1.0) }), g.Constant(0.0) });

            string theta, output;
            if (!inverse)
            {
                theta = Clamp01(g.Node("Div", new[] { g.Sub(x, xk), wk }));
                string t1 = g.Mul(theta, g.Sub(g.Constant(1.0), theta));
                string numerator = g.Mul(hk, g.Add(g.Mul(sk, g.Mul(theta, theta)), g.Mul(dk, t1)));
                output = g.Add(yk, g.Node("Div", new[] { numerator, g.Add(sk, g.Mul(sum, t1)) }));
            }
            else
            {
                string dy = g.Sub(x, yk);
                string a = g.Add(g.Mul(hk, g.Sub(sk, dk)), g.Mul(dy, sum));
                string b = g.Sub(g.Mul(hk, dk), g.Mul(dy, sum));
                string c = g.Node("Neg", new[] { g.Mul(sk, dy) });
                string discriminant = g.Node("Max", new[] { g.Sub(g.Mul(b, b), g.Mul(g.Constant(4.0), g.Mul(a, c))), g.Constant(0.0) });
                string root = g.Sub(g.Node("Neg", new[] { b }), g.Node("Sqrt", new[] { discriminant }));
                theta = Clamp01(g.Node("Div", new[] { g.Mul(g.Constant(2.0), c), root }));
                output = g.Add(g.Mul(theta, wk), xk);
            }
            string oneMinus = g.Sub(g.Constant(1.0), theta);
            string tt = g.Mul(theta, oneMinus);
            string denominator = g.Add(sk, g.Mul(sum, tt));
            string inner = g.Add(g.Add(g.Mul(dk1, g.Mul(theta, theta)), g.Mul(g.Mul(g.Constant(2.0), sk), tt)), g.Mul(dk, g.Mul(oneMinus, oneMinus)));
            string logDerivative = g.Sub(g.Node("Log", new[] { g.Mul(g.Mul(sk, sk), inner) }), g.Mul(g.Constant(2.0), g.Node("Log", new[] { denominator })));
            if (inverse) logDerivative = g.Node("Neg", new[] { logDerivative });
            return (g.Node("Where", new[] { inside, output, input }), g.Node("Where", new[] { inside, logDerivative, g.Constant(0.0) }));

            (string Knots, string Sizes) Knots(OnnxGraph graph, string unnormalized)
            {
                string fractions = graph.Add(graph.Constant(RationalQuadraticSpline.MinimumBinSize),
                    graph.Mul(graph.Constant(1 - RationalQuadraticSpline.MinimumBinSize * k), graph.Node("Softmax", new[] { unnormalized }, ("axis", 2))));
                string cumulative = graph.Node("Pad", new[] { graph.Node("CumSum", new[] { fractions, graph.Constant(2L) }), graph.Constant(new long[] { 0, 0, 1, 0, 0, 0 }) });
                string knots = graph.Sub(graph.Mul(cumulative, graph.Constant(2 * bound)), graph.Constant(bound));
                // The first knot is exactly -B (the padded zero); pin the last to exactly +B.
                string first = graph.Slice(knots, 2, 0, 1);
                knots = graph.Node("Concat", new[] { graph.Slice(knots, 2, 0, k), graph.Node("Neg", new[] { first }) }, ("axis", 2));
                return (knots, graph.Sub(graph.Slice(knots, 2, 1, k + 1), graph.Slice(knots, 2, 0, k)));
            }
        }

        public void Describe(JsonObject settings)
        {
            settings["bins"] = Bins;
            settings["tailBound"] = TailBound;
        }

        public static SplineTransform Create(JsonObject settings) =>
            new(settings["bins"]!.GetValue<int>(), settings["tailBound"]!.GetValue<double>());
    }
}
