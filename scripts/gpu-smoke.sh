#!/usr/bin/env bash
# GPU smoke test: resnet-dfdx on an NVIDIA GPU through dfdx's Cuda device (cudarc).
#
#   scripts/gpu-smoke.sh            build with --features cuda, then run the checks
#   BIN_DIR=DIR scripts/gpu-smoke.sh   run prebuilt binaries (DIR/resnet-tui and
#                                      DIR/05_cuda_agreement) instead of building
#
# Prerequisites for the build: the CUDA toolkit with nvcc (dfdx compiles its kernels with
# nvcc at build time), nvidia-smi (dfdx's build script reads the GPU's compute capability
# from it; CUDA_COMPUTE_CAP=90 overrides, e.g. for an H100/H200), and the cuBLAS, cuRAND,
# NVRTC libraries (cudarc links them; CUDA_ROOT or CUDA_PATH tells it where the toolkit is).
# A binary built elsewhere needs those libraries and the driver's libcuda.so.1 at run time.
# Without a toolkit, scripts/cuda-toolkit-from-pypi.sh assembles one from PyPI wheels.
#
# Checks, each printing one JSON line or d2l's lines:
#   1. forward/backward of ResNet-18 on the GPU against the CPU, same weights and input,
#      tolerance 1e-3 (examples/05_cuda_agreement.rs);
#   2. a short headless training run on Fashion-MNIST at 96x96, batch 256, lr 0.05;
#   3. the speed bench at 96x96, batch 256.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
TRAIN_LIMIT=${TRAIN_LIMIT:-60000}
step() { printf '\n==> %s\n' "$*" >&2; }

if [ -z "${BIN_DIR:-}" ]; then
    step "build (--features cuda)"
    command -v nvcc >/dev/null || { echo "error: nvcc not found; install the CUDA toolkit" >&2; exit 2; }
    cargo build --release -p resnet-tui -p resnet-dfdx --features resnet-tui/cuda,resnet-dfdx/cuda \
        --bin resnet-tui --example 05_cuda_agreement
    BIN_DIR=target/release
    AGREEMENT=target/release/examples/05_cuda_agreement
else
    AGREEMENT=$BIN_DIR/05_cuda_agreement
fi

step "the GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader || true

failed=()

step "1. CPU/GPU agreement (ResNet-18 forward and backward)"
"$AGREEMENT" || failed+=("agreement")

step "2. headless training on the GPU (1 epoch, 96x96, batch 256)"
"$BIN_DIR/resnet-tui" train --headless --device cuda --epochs 1 --batch-size 256 --resize 96 --lr 0.05 \
    --limit-train "$TRAIN_LIMIT" --data-dir "$DATA_DIR" --no-download || failed+=("training")

step "3. speed at 96x96, batch 256"
"$BIN_DIR/resnet-tui" bench --device cuda --res 96 --batch 256 --steps 10 || failed+=("bench")

if [ ${#failed[@]} -gt 0 ]; then
    echo "gpu-smoke: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "gpu-smoke: all checks passed" >&2
