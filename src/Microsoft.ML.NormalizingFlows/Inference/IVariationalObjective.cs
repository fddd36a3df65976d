using static TorchSharp.torch;

namespace Microsoft.ML.NormalizingFlows.Inference
{
    /// <summary>
    /// An objective for variational inference: a scalar loss whose gradient (through autograd) fits the flow q to a
    /// target known up to its normalizing constant. Implement it to add your own objective or gradient estimator.
    /// </summary>
    public interface IVariationalObjective
    {
        /// <summary>A short name for logs and reports.</summary>
        string Name { get; }

        /// <summary>The loss to minimize, from <paramref name="samples"/> fresh draws of the flow.</summary>
        /// <param name="flow">The flow q being fitted.</param>
        /// <param name="logTarget">The unnormalized log-density of the target, <c>[N, d]</c> to <c>[N]</c>, differentiable.</param>
        /// <param name="samples">How many draws to use.</param>
        /// <param name="generator">The generator for the draws.</param>
        /// <returns>The loss (a scalar) and the per-draw log importance weights <c>log p(x) - log q(x)</c>, detached.</returns>
        (Tensor Loss, Tensor LogWeights) Loss(NormalizingFlow flow, Func<Tensor, Tensor> logTarget, long samples, Generator generator);
    }

    /// <summary>How the gradient of the ELBO is estimated.</summary>
    public enum GradientEstimator
    {
        /// <summary>The reparameterization (path plus score) gradient of <c>mean(log p(x) - log q(x))</c>, <c>x = T(e)</c>.</summary>
        Reparameterization,

        /// <summary>
        /// Sticking the landing (Roeder, Wu and Duvenaud, 2017): the path gradient only, with the flow's parameters
        /// detached inside <c>log q</c>. Unbiased, and its variance vanishes as q reaches the target. Needs the flow's
        /// density direction, so every layer must have an inverse (not planar or radial).
        /// </summary>
        StickingTheLanding,
    }
}
