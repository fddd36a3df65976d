#!/usr/bin/env bash
# The CUDA checks of the benchmark program, for a machine with an NVIDIA GPU.
#   build/cuda-benchmark.sh publish   # here: a self-contained build of the benchmark into build/out/cuda-benchmark
#   build/cuda-benchmark.sh run       # on the GPU machine, from the repository root: scores on CUDA device 0
# ONNX Runtime 1.31's CUDA provider needs the CUDA 13 runtime and cuDNN 9 libraries on the library path; without
# them the benchmark falls back to the CPU and its table says "CPU" in the provider column.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  publish)
    dotnet publish test/Microsoft.ML.NormalizingFlows.Benchmarks -c Release -r linux-x64 --self-contained -o build/out/cuda-benchmark
    ;;
  run)
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
    # CUDA vs CPU parity for every preset (1e-4) and CUDA rows/s at 4096 and 65536 rows per call; then the scoring table.
    build/out/cuda-benchmark/Microsoft.ML.NormalizingFlows.Benchmarks cuda --gpu 0 --d 16
    build/out/cuda-benchmark/Microsoft.ML.NormalizingFlows.Benchmarks --gpu 0 --rows "${ROWS:-200000}" --repeats 5
    ;;
  *)
    echo "usage: build/cuda-benchmark.sh publish|run" >&2
    exit 2
    ;;
esac
