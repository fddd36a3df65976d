using Microsoft.ML.NormalizingFlows.Benchmarks;

// Benchmarks (not tests): run with
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks                 # scoring throughput
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- zoo          # preset quality (KL gap) and epoch time
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- vi           # variational inference on the target zoo
// Options: scoring [--rows N --repeats K --gpu ID]; zoo [--epochs N --presets A,B]
if (args.Length > 0 && args[0] == "zoo") return ZooBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "vi") return VariationalBenchmark.Run(args[1..]);
return ScoringBenchmark.Run(args.Length > 0 && args[0] == "scoring" ? args[1..] : args);
