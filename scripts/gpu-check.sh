#!/usr/bin/env bash
# One command for a GPU machine (issue 21; docs/benchmarks.md, "WebGPU").
#
#   npm run gpu-check -- prepare          here: fills .gpu/ (bundled JS, Dawn, the native CPU kernels,
#                                         this machine's Node compressed, Debian's Vulkan loader packages,
#                                         the PyTorch peer script): everything the GPU machine lacks
#   npm run gpu-check -- run              there: ours (webgpu, with the GPU-call counters) / PyTorch CUDA
#                                         for mnist-cnn and resnet20 at batch 128 and 512, then the CPU
#                                         rung's thread scaling at 1/2/4/8/16 threads (as many as exist)
#   npm run gpu-check -- run --software   the same end to end on SwiftShader (Debian's chromium), tiny
#                                         sizes: proves the script, measures nothing about speed
#
# The device tool carries .gpu/ with `carry: [".gpu"]`; it must stay under 64 MiB (about 40 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DIR=.gpu
mode=${1:-run}
software=0
[ "${2:-}" = "--software" ] && software=1

prepare() {
  rm -rf "$GPU_DIR/app" && mkdir -p "$GPU_DIR/app/node_modules" "$GPU_DIR/deb"
  node scripts/build-gpu-bundle.mjs "$GPU_DIR/app"
  # Native and data files the bundles load at run time, as small package folders.
  local nm="$GPU_DIR/app/node_modules"
  mkdir -p "$nm/webgpu/dist/linux-x64" "$nm/@tfkd/cpu-kernels/build/Release" "$nm/@tensorflow/tfjs-backend-wasm/dist"
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$nm/webgpu/"
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$nm/webgpu/dist/linux-x64/"
  # The installed addon (npm links it from native/cpu-kernels); without a compiler it was not built.
  local kernels=node_modules/@tfkd/cpu-kernels
  if [ -f "$kernels/build/Release/tfkd_cpu_kernels.node" ]; then
    cp -L "$kernels/package.json" "$kernels/index.cjs" "$nm/@tfkd/cpu-kernels/"
    cp -L "$kernels/build/Release/tfkd_cpu_kernels.node" "$nm/@tfkd/cpu-kernels/build/Release/"
  else
    echo "note: @tfkd/cpu-kernels is not built here; the CPU rung will use the pure wasm kernels there" >&2
  fi
  cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$nm/@tensorflow/tfjs-backend-wasm/"
  cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js \
    "$nm/@tensorflow/tfjs-backend-wasm/dist/"
  cp scripts/torch_train_speed.py "$GPU_DIR/" 2>/dev/null || true
  xz -T2 -c "$(command -v node)" > "$GPU_DIR/node.xz"
  # Debian's Vulkan loader and libglvnd: without them the NVIDIA Vulkan driver does not load.
  (cd "$GPU_DIR/deb" && apt-get download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2 >/dev/null)
  du -sh "$GPU_DIR"
}

# Node: the one on PATH, else the carried binary.
node_bin() {
  if command -v node >/dev/null 2>&1; then command -v node; return; fi
  [ -x /tmp/node ] || { xz -dc "$GPU_DIR/node.xz" > /tmp/node && chmod +x /tmp/node; }
  echo /tmp/node
}

run() {
  local node; node=$(node_bin)
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
  local bench="$GPU_DIR/app/bench.js" batches="128 512" seconds=8 models=mnist-cnn,resnet20 peer=(--peer --peer-device cuda)
  [ -f "$bench" ] || bench=out/node/bench.js
  if [ "$software" = 1 ]; then
    export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json TFKD_WEBGPU_SOFTWARE=1
    batches=2 seconds=0 models=mnist-cnn peer=()
  else
    if ! ls /usr/lib/*/libvulkan.so.1 >/dev/null 2>&1; then
      for f in "$GPU_DIR"/deb/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
    export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
    export TFKD_PEER_SCRIPT=${TFKD_PEER_SCRIPT:-$GPU_DIR/torch_train_speed.py}
  fi
  echo "== $(nproc) CPUs; $("$node" --version); $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
  for b in $batches; do
    echo "== webgpu, batch $b (ours / PyTorch on the same machine, GPU calls per step)"
    "$node" "$bench" --backends webgpu --models "$models" --batch "$b" --seconds "$seconds" --min-steps 2 \
      --counters "${peer[@]}"
  done
  echo "== CPU rung (wasm + native kernels) thread scaling, batch 128"
  local t max; max=$(nproc)
  for t in 1 2 4 8 16; do
    [ "$t" -le "$max" ] || break
    [ "$software" = 1 ] && [ "$t" -gt 2 ] && break
    echo "-- TFKD_THREADS=$t"
    TFKD_THREADS=$t "$node" "$bench" --backends wasm --models "$models" --batch "$([ "$software" = 1 ] && echo 8 || echo 128)" \
      --seconds "$([ "$software" = 1 ] && echo 1 || echo 6)"
  done
}

case "$mode" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh prepare | run [--software]" >&2; exit 2 ;;
esac
