#!/usr/bin/env bash
# aarch64 (phones' ISA) check: cross-build with Debian's g++-aarch64-linux-gnu, run under qemu-aarch64.
#  - the kernel tests twice: qemu's default CPU ("max": NEON + sdot, so both ARM tables are checked
#    against the reference) and a Cortex-A53 (ARMv8.0, no sdot: the plain NEON table must be chosen);
#  - end to end: stories260K logits vs the golden file and greedy text through the CLI, on both CPUs,
#    and stories15M Q4_0 vs llama.cpp's golden logits/greedy paths (the quantized kernels in a real model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --arm64
BUILD=build-arm64
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DPOCKET_STATIC=ON -DPOCKET_SERVER=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target kernel_tests model_tests pocket_cli
E2E='GoldenLogits.Stories260K:ReferenceText.Stories260K*'
for cpu in max cortex-a53; do
  echo "test_arm64: qemu-aarch64 -cpu $cpu"
  QEMU_CPU=$cpu qemu-aarch64 "$BUILD/pocket" sysinfo --no-bandwidth
  QEMU_CPU=$cpu qemu-aarch64 "$BUILD/tests/kernel_tests" --gtest_brief=1
  QEMU_CPU=$cpu qemu-aarch64 "$BUILD/tests/model_tests" --gtest_brief=1 --gtest_filter="$E2E"
done
qemu-aarch64 "$BUILD/tests/model_tests" --gtest_brief=1 --gtest_filter='GoldenLogits.Stories15MQ4_0'
echo "test_arm64: passed"
