using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.NormalizingFlows
{
    /// <summary>
    /// The host environment behind an ML.NET catalog. ML.NET keeps it behind the internal interface
    /// <c>IInternalCatalog.Environment</c>; reading it lets the flow log to the user's <c>MLContext.Log</c>.
    /// </summary>
    internal static class CatalogEnvironment
    {
        public static IHostEnvironment Get(object catalog)
        {
            ArgumentNullException.ThrowIfNull(catalog);
            Type? internalCatalog = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IInternalCatalog");
            PropertyInfo? environment = internalCatalog?.GetProperty("Environment");
            if (environment?.GetValue(catalog) is IHostEnvironment env) return env;
            throw new InvalidOperationException(
                "Could not reach the MLContext behind this catalog (the ML.NET version may have changed its internals). " +
                "Create the estimator directly with new NormalizingFlowEstimator(mlContext, options).");
        }

        /// <summary>
        /// <c>MLContext.GpuDeviceId</c> and <c>MLContext.FallbackToCpu</c> of the context behind <paramref name="environment"/>
        /// (an <see cref="MLContext"/>, or the environment a catalog holds, which keeps them behind ML.NET's internal
        /// <c>IHostEnvironmentInternal</c>); <c>(null, false)</c> when neither exposes them.
        /// </summary>
        public static (int? GpuDeviceId, bool FallbackToCpu) DeviceSettings(IHostEnvironment environment)
        {
            if (environment is MLContext ml) return (ml.GpuDeviceId, ml.FallbackToCpu);
            Type? settings = environment.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IHostEnvironmentInternal");
            return (settings?.GetProperty("GpuDeviceId")?.GetValue(environment) as int?, settings?.GetProperty("FallbackToCpu")?.GetValue(environment) is true);
        }
    }
}
