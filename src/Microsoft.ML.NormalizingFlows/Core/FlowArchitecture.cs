namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>The ready-made flow architectures. Pick by task: see the README's "Which preset" table.</summary>
    public enum FlowPreset
    {
        /// <summary>Affine coupling layers with alternating masks (RealNVP): fast both ways, the simplest model.</summary>
        RealNvp,

        /// <summary>LU linear mixing + rational-quadratic spline coupling layers (NSF-C): fast both ways, much more expressive.</summary>
        NeuralSplineCoupling,

        /// <summary>Autoregressive rational-quadratic spline layers (NSF-AR): the most expressive density model; sampling takes d passes per layer.</summary>
        NeuralSplineAutoregressive,

        /// <summary>Masked autoregressive affine layers (MAF): fast density; sampling takes d passes per layer.</summary>
        MaskedAutoregressive,

        /// <summary>Inverse autoregressive affine layers (IAF): fast sampling (variational inference); density of given data takes d passes per layer.</summary>
        InverseAutoregressive,

        /// <summary>
        /// The estimator's choice (its default): spline coupling layers, with the base and the training settings chosen
        /// from the rows. It compares a mixture base of <c>MixtureComponents</c> and of half as many components with the
        /// standard normal in short fits (a quarter of the budget each), keeps the best by validation log-likelihood and
        /// fits it with the full budget; on small data (fewer than 8 steps per epoch) it uses smaller batches and weight
        /// decay. <c>TrainingHistory.Choice</c> says what it chose and why. Only for the estimators: a flow built
        /// directly (<see cref="FlowFactory"/>) needs a named preset.
        /// </summary>
        Auto,
    }

    /// <summary>The base (latent) distribution of a preset flow.</summary>
    public enum BaseDistributionKind
    {
        /// <summary>N(0, I).</summary>
        StandardNormal,

        /// <summary>A Gaussian with trainable mean and per-feature scale.</summary>
        DiagonalGaussian,

        /// <summary>Independent Student-t features with trainable degrees of freedom (heavy tails, for data with outliers).</summary>
        StudentT,

        /// <summary>A mixture of diagonal Gaussians with trainable weights (multimodal data), started by seeded k-means on the latents.</summary>
        GaussianMixture,
    }

    /// <summary>The architecture of a preset flow. Each range is checked by <see cref="Validate"/>.</summary>
    public sealed record FlowArchitecture
    {
        /// <summary>The preset. Default <see cref="FlowPreset.NeuralSplineCoupling"/>.</summary>
        public FlowPreset Preset { get; init; } = FlowPreset.NeuralSplineCoupling;

        /// <summary>The number of transform layers (couplings or autoregressive layers). Range: 1 to 64. Default 5.</summary>
        public int NumberOfLayers { get; init; } = 5;

        /// <summary>The conditioners' hidden width. Range: 1 to 4096. Default 64.</summary>
        public int HiddenUnits { get; init; } = 64;

        /// <summary>The conditioners' hidden layers (residual blocks for autoregressive presets with <see cref="ResidualBlocks"/>). Range: 1 to 16. Default 2.</summary>
        public int HiddenLayers { get; init; } = 2;

        /// <summary>Spline bins K (spline presets). Range: 2 to 64. Default 8.</summary>
        public int NumberOfBins { get; init; } = 8;

        /// <summary>Spline interval <c>[-B, B]</c> in standardized units (spline presets); identity outside. Range: greater than 0, at most 100. Default 4.</summary>
        public double TailBound { get; init; } = 4;

        /// <summary>The bound on affine log-scales (RealNVP, MAF, IAF). Range: greater than 0, at most 20. Default 3.</summary>
        public double LogScaleBound { get; init; } = 3;

        /// <summary>RealNVP only: a seeded random permutation before each coupling after the first. Default false.</summary>
        public bool RandomPermutations { get; init; }

        /// <summary>Autoregressive presets: MADE with residual blocks. Default false.</summary>
        public bool ResidualBlocks { get; init; }

        /// <summary>An ActNorm layer (data-initialized) before each transform layer. Default false.</summary>
        public bool ActNorm { get; init; }

        /// <summary>The base distribution. Default <see cref="BaseDistributionKind.StandardNormal"/>.</summary>
        public BaseDistributionKind BaseDistribution { get; init; } = BaseDistributionKind.StandardNormal;

        /// <summary>Components of a <see cref="BaseDistributionKind.GaussianMixture"/> base. Range: 1 to 1024. Default 8.</summary>
        public int MixtureComponents { get; init; } = 8;

        /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting outside its range.</summary>
        public void Validate()
        {
            Training.MaximumLikelihoodOptions.Check(Enum.IsDefined(Preset), nameof(Preset), Preset, "one of the FlowPreset values");
            Training.MaximumLikelihoodOptions.Check(NumberOfLayers is >= 1 and <= 64, nameof(NumberOfLayers), NumberOfLayers, "from 1 to 64");
            Training.MaximumLikelihoodOptions.Check(HiddenUnits is >= 1 and <= 4096, nameof(HiddenUnits), HiddenUnits, "from 1 to 4096");
            Training.MaximumLikelihoodOptions.Check(HiddenLayers is >= 1 and <= 16, nameof(HiddenLayers), HiddenLayers, "from 1 to 16");
            Training.MaximumLikelihoodOptions.Check(NumberOfBins is >= 2 and <= 64, nameof(NumberOfBins), NumberOfBins, "from 2 to 64");
            Training.MaximumLikelihoodOptions.Check(TailBound > 0 && TailBound <= 100, nameof(TailBound), TailBound, "greater than 0 and at most 100");
            Training.MaximumLikelihoodOptions.Check(LogScaleBound > 0 && LogScaleBound <= 20, nameof(LogScaleBound), LogScaleBound, "greater than 0 and at most 20");
            Training.MaximumLikelihoodOptions.Check(Enum.IsDefined(BaseDistribution), nameof(BaseDistribution), BaseDistribution, "one of the BaseDistributionKind values");
            Training.MaximumLikelihoodOptions.Check(MixtureComponents is >= 1 and <= 1024, nameof(MixtureComponents), MixtureComponents, "from 1 to 1024");
        }
    }
}
