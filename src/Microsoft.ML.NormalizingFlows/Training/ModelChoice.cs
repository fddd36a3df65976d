using System.Text.Json.Nodes;

namespace Microsoft.ML.NormalizingFlows.Training
{
    /// <summary>One candidate that <see cref="FlowPreset.Auto"/> tried: a short fit of a share of the budget.</summary>
    /// <param name="Description">The candidate, for example "spline coupling, 8-component mixture base".</param>
    /// <param name="ValidationLogLikelihood">Its best validation log-likelihood in the short fit (mean nats per row), or NaN when it diverged.</param>
    /// <param name="Steps">The optimizer steps of the short fit.</param>
    /// <param name="Seconds">The short fit's wall time.</param>
    public sealed record CandidateFit(string Description, double ValidationLogLikelihood, long Steps, double Seconds);

    /// <summary>What <see cref="FlowPreset.Auto"/> chose and why.</summary>
    /// <param name="Chosen">The chosen candidate's description.</param>
    /// <param name="Reason">Why: the comparison, and the small-data settings when they apply.</param>
    /// <param name="Candidates">The candidates compared (empty when there was nothing to compare).</param>
    public sealed record ModelChoice(string Chosen, string Reason, IReadOnlyList<CandidateFit> Candidates)
    {
        internal JsonObject ToJson() => new()
        {
            ["chosen"] = Chosen,
            ["reason"] = Reason,
            ["candidates"] = new JsonArray(Candidates.Select(c => (JsonNode)new JsonArray(
                c.Description, double.IsFinite(c.ValidationLogLikelihood) ? JsonValue.Create(c.ValidationLogLikelihood) : null, c.Steps, c.Seconds)).ToArray()),
        };

        internal static ModelChoice FromJson(JsonObject json) => new(
            json["chosen"]!.GetValue<string>(), json["reason"]!.GetValue<string>(),
            json["candidates"]!.AsArray().Select(n =>
            {
                JsonArray c = n!.AsArray();
                return new CandidateFit(c[0]!.GetValue<string>(), c[1]?.GetValue<double>() ?? double.NaN, c[2]!.GetValue<long>(), c[3]!.GetValue<double>());
            }).ToArray());
    }
}
