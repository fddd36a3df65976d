using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>The support of one parameter of a posterior.</summary>
    public enum Constraint
    {
        /// <summary>The whole real line: no transform.</summary>
        Real,

        /// <summary>(0, infinity): <c>theta = exp(u)</c>, <c>log|dtheta/du| = u</c>.</summary>
        Positive,

        /// <summary>(0, 1): <c>theta = sigmoid(u)</c>, <c>log|dtheta/du| = log sigmoid(u) + log sigmoid(-u)</c>.</summary>
        UnitInterval,
    }

    /// <summary>
    /// Variational inference over constrained parameters: a flow is fitted on the real line in unconstrained
    /// coordinates u, with the target carried over by the change of variables
    /// <c>log p_u(u) = log p(theta(u)) + sum log|dtheta_i/du_i|</c>; samples map back with <see cref="ToConstrained"/>.
    /// The log normalizing constant is unchanged by the change of variables.
    /// </summary>
    public sealed class ConstrainedSpace
    {
        private readonly Constraint[] constraints;

        /// <summary>Creates the space from one constraint per parameter.</summary>
        /// <param name="constraints">The support of each parameter.</param>
        public ConstrainedSpace(params Constraint[] constraints)
        {
            ArgumentNullException.ThrowIfNull(constraints);
            if (constraints.Length == 0) throw new ArgumentException("Give one constraint per parameter.", nameof(constraints));
            if (constraints.Any(c => !Enum.IsDefined(c))) throw new ArgumentOutOfRangeException(nameof(constraints), "Unknown constraint.");
            this.constraints = constraints;
        }

        /// <summary>The number of parameters.</summary>
        public int Dimension => constraints.Length;

        /// <summary>Maps unconstrained rows <c>[N, d]</c> to the parameters' supports.</summary>
        /// <param name="unconstrained">Rows u.</param>
        /// <returns>Rows theta.</returns>
        public Tensor ToConstrained(Tensor unconstrained) => Map(unconstrained).Theta;

        /// <summary>The target in unconstrained coordinates, for <see cref="VariationalInference.Fit"/>.</summary>
        /// <param name="logDensity">The log-density over constrained parameters theta, <c>[N, d]</c> to <c>[N]</c>.</param>
        /// <returns>The log-density over u.</returns>
        public Func<Tensor, Tensor> Unconstrained(Func<Tensor, Tensor> logDensity)
        {
            ArgumentNullException.ThrowIfNull(logDensity);
            return u =>
            {
                (Tensor theta, Tensor logJacobian) = Map(u);
                return logDensity(theta) + logJacobian;
            };
        }

        private (Tensor Theta, Tensor LogJacobian) Map(Tensor u)
        {
            if (u.dim() != 2 || u.shape[1] != Dimension)
                throw new ArgumentException($"Expected rows of shape [N, {Dimension}] but got [{string.Join(", ", u.shape)}].", nameof(u));
            var columns = new Tensor[Dimension];
            Tensor logJacobian = zeros(u.shape[0], dtype: u.dtype, device: u.device);
            for (int i = 0; i < Dimension; i++)
            {
                Tensor column = u[.., i];
                switch (constraints[i])
                {
                    case Constraint.Positive:
                        columns[i] = column.exp();
                        logJacobian = logJacobian + column;
                        break;
                    case Constraint.UnitInterval:
                        columns[i] = column.sigmoid();
                        logJacobian = logJacobian + nn.functional.logsigmoid(column) + nn.functional.logsigmoid(-column);
                        break;
                    default:
                        columns[i] = column;
                        break;
                }
            }
            return (stack(columns, 1), logJacobian);
        }
    }
}
