using Microsoft.ML.NormalizingFlows.Ops;
using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Splines
{
    /// <summary>
    /// The monotonic rational-quadratic spline of Neural Spline Flows (Durkan, Bekasov, Murray and Papamakarios, 2019),
    /// element-wise, with identity tails: on <c>[-B, B]</c> a spline of K bins whose knots and knot derivatives come from
    /// unnormalized parameters, outside it <c>y = x</c> with <c>log|dy/dx| = 0</c>. The boundary derivatives are 1, so
    /// the map is continuously differentiable across <c>+-B</c>.
    /// </summary>
    /// <remarks>
    /// Parameter layout along the last axis: K unnormalized widths, K unnormalized heights, K - 1 unnormalized interior
    /// derivatives (3K - 1 values). All zero parameters give the identity (equal bins, derivatives
    /// <c>d = MinimumDerivative + softplus(u + c) = 1</c>). The arithmetic runs in the input's element type (float32 by
    /// default; a float64 flow computes in float64), written once over <see cref="IFlowOps{V}"/> for TorchSharp and
    /// ONNX. Numerics: inputs are clamped into the interval before any spline arithmetic, so the unused branch of the
    /// final selection is finite and gradients stay finite for any input; the inverse solves the bin's quadratic in
    /// the cancellation-free form <c>theta = 2c / (-b - sqrt(b^2 - 4ac))</c>. The bin search counts the knots at or
    /// below the input (comparisons and a sum, no <c>searchsorted</c>); the bin's lower knots and sizes come from one
    /// table by one gather, and only the bin's two end derivatives go through the softplus.
    /// </remarks>
    public static class RationalQuadraticSpline
    {
        /// <summary>The smallest bin width and height, as a fraction of the interval.</summary>
        public const double MinimumBinSize = 1e-3;

        /// <summary>The smallest knot derivative.</summary>
        public const double MinimumDerivative = 1e-3;

        // softplus(c) = 1 - MinimumDerivative, so that a zero parameter gives a knot derivative of exactly 1.
        private static readonly double DerivativeOffset = Math.Log(Math.Exp(1 - MinimumDerivative) - 1);

        /// <summary>The number of spline parameters per transformed value for <paramref name="bins"/> bins: 3K - 1.</summary>
        /// <param name="bins">K.</param>
        /// <returns>3K - 1.</returns>
        public static int ParameterCount(int bins) => 3 * bins - 1;

        /// <summary>Applies the spline (or its inverse) element-wise, in TorchSharp.</summary>
        /// <param name="input">Values <c>[N, D]</c>.</param>
        /// <param name="parameters">Unnormalized parameters <c>[N, D, 3K - 1]</c>, of the input's element type.</param>
        /// <param name="bins">K, at least 2.</param>
        /// <param name="tailBound">B, greater than 0.</param>
        /// <param name="inverse">Whether to apply the inverse map.</param>
        /// <returns>The outputs and <c>log|dOutput/dInput|</c> element-wise (<c>[N, D]</c>).</returns>
        public static (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor parameters, int bins, double tailBound, bool inverse)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentNullException.ThrowIfNull(parameters);
            if (input.dim() != 2 || parameters.dim() != 3 || parameters.shape[0] != input.shape[0] || parameters.shape[1] != input.shape[1] || parameters.shape[2] != ParameterCount(bins))
                throw new ArgumentException($"Expected values [N, D] and parameters [N, D, {ParameterCount(bins)}] but got [{string.Join(", ", input.shape)}] and [{string.Join(", ", parameters.shape)}].", nameof(parameters));
            return Apply(TorchOps.Instance, input, parameters, (int)input.shape[1], bins, tailBound, inverse);
        }

        /// <summary>The spline over <paramref name="o"/>: values <c>[N, D]</c> (D = <paramref name="features"/>), parameters <c>[N, D, 3K - 1]</c>.</summary>
        internal static (V Output, V LogAbsDet) Apply<V>(IFlowOps<V> o, V input, V parameters, int features, int bins, double tailBound, bool inverse)
            where V : class
        {
            int k = bins;
            double bound = tailBound;
            V inside = o.InRange(input, -bound, bound);
            // The spline works on the unit interval, u = (x + B) / 2B: knots, bins and theta are scale-free there, so
            // only the [N, D, 1] values are scaled, not the knot tables.
            V u = o.Reshape(o.Add(o.Mul(o.Clamp(input, -bound, bound), 1 / (2 * bound)), 0.5), 0, 0, 1);

            // Widths and heights together, [N, D, 2, K]: bin sizes (fractions) and lower knots (their exclusive running
            // sums, from exactly 0); one table [N, D, 4, K] of x-knots, y-knots, widths and heights.
            V fractions = o.Add(o.Mul(o.SoftmaxLast(o.Reshape(o.Narrow(parameters, 2, 0, 2 * k), 0, 0, 2, k)), 1 - MinimumBinSize * k), MinimumBinSize);
            V lowerKnots = o.ExclusiveCumSumLast(fractions);
            V table = o.Concat(2, lowerKnots, fractions);

            // The bin: how many interior knots lie at or below the value; then its row of the table in one gather.
            V bin = o.CountAtOrAbove(u, o.Reshape(o.Narrow(o.Narrow(lowerKnots, 2, inverse ? 1 : 0, 1), 3, 1, k - 1), 0, 0, k - 1));
            V row = o.GatherLast(table, o.ExpandAxis(o.Reshape(bin, 0, 0, 1, 1), 4, 2, 4));
            V xk = Entry(o, row, 0), yk = Entry(o, row, 1), wk = Entry(o, row, 2), hk = Entry(o, row, 3);

            // The knot derivatives at both ends of the bin: 1 at the interval's ends, else from the K - 1 interior
            // parameters (only the two needed go through the softplus).
            V interior = o.Narrow(parameters, 2, 2 * k, k - 1);
            V ends = o.Concat(2, o.ClampIndex(o.AddIndex(bin, -1), 0, k - 2), o.ClampIndex(bin, 0, k - 2));
            V derivative = o.Add(o.Softplus(o.Add(o.GatherLast(interior, ends), DerivativeOffset)), MinimumDerivative);
            V dk = o.Where(o.IndexNotEqual(bin, 0), o.Narrow(derivative, 2, 0, 1), 1.0);
            V dk1 = o.Where(o.IndexNotEqual(bin, k - 1), o.Narrow(derivative, 2, 1, 1), 1.0);
            V sk = o.Div(hk, wk);
            V sum = o.Sub(o.Add(dk1, dk), o.Mul(sk, 2));

            V theta, output;
            if (!inverse)
            {
                theta = o.Clamp(o.Div(o.Sub(u, xk), wk), 0, 1);
                V t1 = o.Mul(theta, o.Sub(1, theta));
                output = o.Add(yk, o.Div(o.Mul(hk, o.Add(o.Mul(sk, o.Square(theta)), o.Mul(dk, t1))), o.Add(sk, o.Mul(sum, t1))));
            }
            else
            {
                V dy = o.Sub(u, yk);
                V a = o.Add(o.Mul(hk, o.Sub(sk, dk)), o.Mul(dy, sum));
                V b = o.Sub(o.Mul(hk, dk), o.Mul(dy, sum));
                V c = o.Neg(o.Mul(sk, dy));
                V discriminant = o.ClampMin(o.Sub(o.Square(b), o.Mul(o.Mul(a, c), 4)), 0);
                theta = o.Clamp(o.Div(o.Mul(c, 2), o.Sub(o.Neg(b), o.Sqrt(discriminant))), 0, 1);
                output = o.Add(o.Mul(theta, wk), xk);
            }
            V oneMinus = o.Sub(1, theta);
            V tt = o.Mul(theta, oneMinus);
            V inner = o.Add(o.Add(o.Mul(dk1, o.Square(theta)), o.Mul(o.Mul(sk, tt), 2)), o.Mul(dk, o.Square(oneMinus)));
            V logDerivative = o.Sub(o.Add(o.Mul(o.Log(sk), 2), o.Log(inner)), o.Mul(o.Log(o.Add(sk, o.Mul(sum, tt))), 2));
            if (inverse) logDerivative = o.Neg(logDerivative);

            V mapped = o.Add(o.Mul(o.Reshape(output, 0, features), 2 * bound), -bound);
            return (o.Where(inside, mapped, input), o.Where(inside, o.Reshape(logDerivative, 0, features), 0));
        }

        // Row r of the gathered table [N, D, 4, 1], as [N, D, 1].
        private static V Entry<V>(IFlowOps<V> o, V row, int r) where V : class => o.Reshape(o.Narrow(row, 2, r, 1), 0, 0, 1);
    }
}
