using TorchSharp;
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
    /// Numerics: inputs are clamped into the interval before any spline arithmetic, so the unused branch of the final
    /// selection is finite and gradients stay finite for any input (the repeated NaN bug of other libraries). The bin
    /// search is a count of knots below the input (comparisons and a sum, no <c>searchsorted</c>), which exports to ONNX.
    /// Parameter layout along the last axis: K unnormalized widths, K unnormalized heights, K - 1 unnormalized interior
    /// derivatives (3K - 1 values). The spline arithmetic runs in float64 whatever the input type: where a conditioner
    /// gives extreme parameters (steep bins), float32 would lose several digits, most of all in the inverse.
    /// </remarks>
    public static class RationalQuadraticSpline
    {
        /// <summary>The smallest bin width and height, as a fraction of the interval.</summary>
        public const double MinimumBinSize = 1e-3;

        /// <summary>The smallest knot derivative.</summary>
        public const double MinimumDerivative = 1e-3;

        /// <summary>The number of spline parameters per transformed value for <paramref name="bins"/> bins: 3K - 1.</summary>
        /// <param name="bins">K.</param>
        /// <returns>3K - 1.</returns>
        public static int ParameterCount(int bins) => 3 * bins - 1;

        /// <summary>Applies the spline (or its inverse) element-wise.</summary>
        /// <param name="input">Values, any shape <c>[..., D]</c>.</param>
        /// <param name="parameters">Unnormalized parameters, shape <c>[..., D, 3K - 1]</c>.</param>
        /// <param name="bins">K, at least 2.</param>
        /// <param name="tailBound">B, greater than 0.</param>
        /// <param name="inverse">Whether to apply the inverse map.</param>
        /// <returns>The outputs and <c>log|dOutput/dInput|</c> element-wise (same shape as <paramref name="input"/>).</returns>
        public static (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor parameters, int bins, double tailBound, bool inverse)
        {
            using var scope = NewDisposeScope();
            ScalarType type = input.dtype;
            (Tensor output, Tensor logAbsDet) = ApplyInFloat64(input.to_type(ScalarType.Float64), parameters.to_type(ScalarType.Float64), bins, tailBound, inverse);
            return (output.to_type(type).MoveToOuterDisposeScope(), logAbsDet.to_type(type).MoveToOuterDisposeScope());
        }

        private static (Tensor Output, Tensor LogAbsDet) ApplyInFloat64(Tensor input, Tensor parameters, int bins, double tailBound, bool inverse)
        {
            Tensor inside = input.ge(-tailBound).logical_and(input.le(tailBound));
            Tensor x = input.clamp(-tailBound, tailBound);

            Tensor widths = parameters.narrow(-1, 0, bins);
            Tensor heights = parameters.narrow(-1, bins, bins);
            Tensor interior = parameters.narrow(-1, 2 * bins, bins - 1);
            (Tensor knotsX, Tensor binWidths) = Knots(widths, bins, tailBound);
            (Tensor knotsY, Tensor binHeights) = Knots(heights, bins, tailBound);
            Tensor one = ones_like(interior.narrow(-1, 0, 1));
            Tensor derivatives = cat(new[] { one, MinimumDerivative + nn.functional.softplus(interior), one }, -1);

            // The bin of each value: how many interior knots lie at or below it.
            Tensor knots = inverse ? knotsY : knotsX;
            Tensor bin = x.unsqueeze(-1).ge(knots.narrow(-1, 1, bins - 1)).sum(-1, keepdim: true, type: ScalarType.Int64);

            Tensor xk = knotsX.gather(-1, bin).squeeze(-1);
            Tensor wk = binWidths.gather(-1, bin).squeeze(-1);
            Tensor yk = knotsY.gather(-1, bin).squeeze(-1);
            Tensor hk = binHeights.gather(-1, bin).squeeze(-1);
            Tensor dk = derivatives.gather(-1, bin).squeeze(-1);
            Tensor dk1 = derivatives.gather(-1, bin + 1).squeeze(-1);
            Tensor sk = hk / wk;
            Tensor sum = dk1 + dk - 2 * sk;

            Tensor theta, output;
            if (!inverse)
            {
                theta = ((x - xk) / wk).clamp(0, 1);
                Tensor t1 = theta * (1 - theta);
                output = yk + hk * (sk * theta.square() + dk * t1) / (sk + sum * t1);
            }
            else
            {
                Tensor dy = x - yk;
                Tensor a = hk * (sk - dk) + dy * sum;
                Tensor b = hk * dk - dy * sum;
                Tensor c = -sk * dy;
                Tensor discriminant = (b.square() - 4 * a * c).clamp_min(0);
                theta = (2 * c / (-b - discriminant.sqrt())).clamp(0, 1);
                output = theta * wk + xk;
            }
            Tensor tt = theta * (1 - theta);
            Tensor denominator = sk + sum * tt;
            Tensor logDerivative = (sk.square() * (dk1 * theta.square() + 2 * sk * tt + dk * (1 - theta).square())).log()
                                   - 2 * denominator.log();
            if (inverse) logDerivative = logDerivative.neg();

            return (where(inside, output, input), where(inside, logDerivative, zeros_like(logDerivative)));
        }

        // Knot positions [..., K + 1] from -B to B and bin sizes [..., K], each bin at least MinimumBinSize of the interval.
        private static (Tensor Knots, Tensor Sizes) Knots(Tensor unnormalized, int bins, double tailBound)
        {
            Tensor fractions = MinimumBinSize + (1 - MinimumBinSize * bins) * unnormalized.softmax(-1);
            Tensor cumulative = nn.functional.pad(fractions.cumsum(-1), new long[] { 1, 0 });
            Tensor knots = 2 * tailBound * cumulative - tailBound;
            // Pin the ends exactly, whatever the rounding of the cumulative sum.
            Tensor first = full_like(knots.narrow(-1, 0, 1), -tailBound);
            Tensor last = full_like(knots.narrow(-1, 0, 1), tailBound);
            knots = cat(new[] { first, knots.narrow(-1, 1, bins - 1), last }, -1);
            return (knots, knots.narrow(-1, 1, bins) - knots.narrow(-1, 0, bins));
        }
    }
}
