#!/usr/bin/env bash
# Builds a CUDA 13.0 toolkit layout from PyPI wheels, usable as CUDA_ROOT for
# cudarc 0.9.x / dfdx 0.13 (feature "cuda") builds on a machine without a GPU.
# Idempotent: re-running rebuilds $DEST from the cached wheels.
#   usage: scripts/cuda-toolkit-from-pypi.sh [BASE_DIR]   (default target/cuda-toolkit)
# For building resnet-dfdx's CUDA binaries where no CUDA toolkit is installed (e.g. to copy
# them to a GPU machine without Rust); with a real toolkit, scripts/gpu-smoke.sh needs none of it.
# Result:
#   $BASE/cuda            CUDA_ROOT (bin/nvcc, include/, lib/, lib64 -> lib, lib/stubs/libcuda.so)
#   $BASE/fakebin         nvidia-smi stand-in (prints compute_cap 9.0) for dfdx's build.rs
set -euo pipefail

BASE=$(realpath -m "${1:-target/cuda-toolkit}")
WHEELS=$BASE/wheels
DEST=$BASE/cuda-site          # wheels are unpacked here (pip "site-packages" layout)
ROOT=$BASE/cuda               # -> $DEST/nvidia/cu13
FAKEBIN=$BASE/fakebin
PY=${PYTHON:-python3}
CUDARC_SRC=${CUDARC_SRC:-$(ls -d "$HOME"/.cargo/registry/src/*/cudarc-0.9.15 2>/dev/null | head -1)}

# CUDA 13.0 toolchain. nvcc must stay 13.0.x: driver 580 (CUDA 13.0) cannot JIT the
# PTX ISA 9.1 that nvcc 13.1 emits. Runtime libs: only the sonames matter
# (libcublas.so.13, libcublasLt.so.13, libnvrtc.so.13, libcurand.so.10).
PKGS=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-cccl==13.0.85
  nvidia-cuda-runtime==13.0.96
  nvidia-cuda-nvrtc==13.0.88
  nvidia-curand==10.4.0.35
  nvidia-cublas==13.1.0.3
)

mkdir -p "$WHEELS"
"$PY" -m pip download --no-deps --only-binary=:all: \
  -d "$WHEELS" "${PKGS[@]}"

rm -rf "$DEST"
mkdir -p "$DEST"
for p in "${PKGS[@]}"; do
  name=${p%%==*}; ver=${p##*==}
  whl=$(ls "$WHEELS"/"${name//-/_}"-"$ver"-*.whl | head -1)
  "$PY" -m zipfile -e "$whl" "$DEST"
done
T=$DEST/nvidia/cu13
chmod +x "$T"/bin/* "$T"/nvvm/bin/* 2>/dev/null || true

# Standard toolkit-like extras.
ln -sfn lib "$T/lib64"
mkdir -p "$T/targets/x86_64-linux"
ln -sfn ../../include "$T/targets/x86_64-linux/include"
ln -sfn ../../lib "$T/targets/x86_64-linux/lib"
# Unversioned dev symlinks for the linker.
( cd "$T/lib"
  ln -sfn libcublas.so.13   libcublas.so
  ln -sfn libcublasLt.so.13 libcublasLt.so
  ln -sfn libnvrtc.so.13    libnvrtc.so
  ln -sfn libcurand.so.10   libcurand.so
  ln -sfn libcudart.so.13   libcudart.so )

# libcuda stub (driver API; the real libcuda.so.1 comes with the GPU driver).
# Empty functions for every cu* symbol declared in cudarc's driver bindings,
# SONAME libcuda.so.1 so the binary records NEEDED libcuda.so.1.
mkdir -p "$T/lib/stubs"
STUBC=$T/lib/stubs/libcuda_stub.c
{
  echo "/* generated stub: never executed, only linked against */"
  if [ -n "$CUDARC_SRC" ] && [ -f "$CUDARC_SRC/src/driver/sys.rs" ]; then
    grep -o 'pub fn cu[A-Za-z0-9_]*' "$CUDARC_SRC/src/driver/sys.rs" | awk '{print $3}'
  fi
  # names used in cuda.h too (covers anything cudarc might add)
  grep -o '^CUresult CUDAAPI cu[A-Za-z0-9_]*' "$T/include/cuda.h" | awk '{print $3}'
} | grep -v '^/\*' | grep -vx 'cuGetErrorString\|cuGetErrorName' | sort -u \
  | awk '{print "int " $1 "(void) { return 999; /* CUDA_ERROR_UNKNOWN */ }"}' > "$STUBC"
cat >> "$STUBC" <<'EOF'
int cuGetErrorString(int e, const char **s) { *s = "stub libcuda.so (build-time only): real NVIDIA driver libcuda.so.1 not found first in the library path"; return 0; }
int cuGetErrorName(int e, const char **s) { *s = "CUDA_ERROR_STUB_LIBCUDA"; return 0; }
EOF
gcc -shared -fPIC -O0 -o "$T/lib/stubs/libcuda.so" -Wl,-soname,libcuda.so.1 "$STUBC"
ln -sfn stubs/libcuda.so "$T/lib/libcuda.so"   # cudarc build.rs searches lib/, lib64/, lib64/stubs

ln -sfn "$T" "$ROOT"

# nvidia-smi stand-in: dfdx 0.13 build.rs calls it unconditionally (then
# CUDA_COMPUTE_CAP overrides). Keep it out of PATH at run time.
mkdir -p "$FAKEBIN"
cat > "$FAKEBIN/nvidia-smi" <<'EOF'
#!/bin/sh
# fake nvidia-smi for builds without a GPU (dfdx build.rs)
echo compute_cap
echo "${CUDA_COMPUTE_CAP_DOT:-9.0}"
EOF
chmod +x "$FAKEBIN/nvidia-smi"

"$ROOT/bin/nvcc" --version | tail -2
echo "CUDA_ROOT=$ROOT ready; build with:"
echo "  PATH=$ROOT/bin:$FAKEBIN:\$PATH CUDA_ROOT=$ROOT CUDA_COMPUTE_CAP=90 cargo build --release"
