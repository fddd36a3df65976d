using Microsoft.ML.NormalizingFlows.Benchmarks;

// Benchmarks (not tests): run with
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks                 # scoring throughput
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- zoo          # preset quality (KL gap) and epoch time
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- anomaly      # anomaly AUC vs scikit-learn's detectors, shipped tables
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- vi           # variational inference on the target zoo
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- train        # step time, scoring, sampling vs PyTorch
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- memory       # peak memory of streamed fits, 1e4..1e6 rows
//   dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- profile      # ONNX Runtime kernel time per operator
//   ... -- cuda [--gpu 0 --d 16]   # on a GPU machine (build/cuda-benchmark.sh): CUDA vs CPU parity and CUDA rows/s per preset
// (profile [--preset NeuralSplineCoupling --d 16])
// Options: scoring [--rows N --repeats K --gpu ID]; zoo [--epochs N --presets A,B]; train [--steps N --repeats K --dims 2,16,64 --presets A,B]; memory [10000,100000,...]
if (args.Length > 0 && args[0] == "train") return TrainingBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "profile") return ProfileBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "cuda") return CudaBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "memory") return MemoryBenchmark.Run(args[1..]);
if (args.Length > 2 && args[0] == "memory-child")
    return MemoryBenchmark.Child(long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture),
        trim: args.Length > 3 && args[3] == "--trim");
if (args.Length > 0 && args[0] == "zoo") return ZooBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "anomaly") return AnomalyBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "vi") return VariationalBenchmark.Run(args[1..]);
return ScoringBenchmark.Run(args.Length > 0 && args[0] == "scoring" ? args[1..] : args);
