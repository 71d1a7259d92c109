#!/usr/bin/env bash
# aarch64 (phones' ISA) check: cross-build with Debian's g++-aarch64-linux-gnu, run under qemu-aarch64,
# on qemu's default CPU ("max": NEON + sdot) and on a Cortex-A53 (ARMv8.0, no sdot):
#  - the kernel tests (every ARM table vs the reference; the right table must be chosen on each CPU);
#  - end to end through the CLI: stories260K greedy text equals run.c's reference byte for byte, and
#    llama.cpp's stories15M Q4_0 file generates the same greedy text with the sdot and the plain NEON
#    tables (they are bit-identical by construction; this checks it in a real model).
# POCKET_ARM64_FULL=1 also builds model_tests and checks stories15M Q4_0/Q8_0 against llama.cpp's golden
# logits and greedy paths (about 2 more minutes of build and 90 s under qemu).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --arm64
BUILD=build-arm64
SHARED=${POCKET_SHARED:-../shared}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DPOCKET_STATIC=ON -DPOCKET_SERVER=OFF >/dev/null
targets=(kernel_tests pocket_cli pocket_shared)
[ "${POCKET_ARM64_FULL:-0}" = "1" ] && targets+=(model_tests)
cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]}"
declare -A q4 kq
KQ=$(mktemp --suffix=.gguf)
trap 'rm -f "$KQ"' EXIT
if [ -x build/pocket ]; then
  build/pocket quantize "$SHARED/golden/stories15M-f32.llamacpp.gguf" "$KQ" --type q4_k_m --force >/dev/null 2>&1
else
  qemu-aarch64 "$BUILD/pocket" quantize "$SHARED/golden/stories15M-f32.llamacpp.gguf" "$KQ" --type q4_k_m --force >/dev/null 2>&1
fi
for cpu in max cortex-a53; do
  echo "test_arm64: qemu-aarch64 -cpu $cpu"
  export QEMU_CPU=$cpu
  qemu-aarch64 "$BUILD/pocket" sysinfo --no-bandwidth
  qemu-aarch64 "$BUILD/tests/kernel_tests" --gtest_brief=1
  got=$(qemu-aarch64 "$BUILD/pocket" run -m "$SHARED/golden/stories260K-f32.llamacpp.gguf" -p '' -n 200 --temp 0 2>/dev/null)
  want=$(cat "$SHARED/models/stories260K/REFERENCE_greedy_n200_runc.txt")
  if [ "$got" != "$want" ]; then
    echo "test_arm64: FAIL: stories260K greedy text differs from run.c's reference on $cpu"; diff <(echo "$got") <(echo "$want") | head; exit 1
  fi
  echo "test_arm64: stories260K greedy (200 tokens) = run.c reference"
  q4[$cpu]=$(qemu-aarch64 "$BUILD/pocket" run -m "$SHARED/golden/stories15M-q4_0.llamacpp.gguf" -p 'Once upon a time' -n 32 --temp 0 2>/dev/null)
  # llama-quantize's Q4_K_M mix (Q5_0 + Q4_K + Q6_K + Q8_0 here; written by the host's pocket quantize).
  kq[$cpu]=$(qemu-aarch64 "$BUILD/pocket" run -m "$KQ" -p 'Once upon a time' -n 32 --temp 0 2>/dev/null)
  echo "test_arm64: stories15M Q4_0: ${q4[$cpu]}"
  [ "${POCKET_ARM64_FULL:-0}" = "1" ] && qemu-aarch64 "$BUILD/tests/model_tests" --gtest_brief=1 \
      --gtest_filter='GoldenLogits.Stories260K:GoldenLogits.Stories15MQ4_0:GoldenLogits.Stories15MQ8_0:ReferenceText.Stories260K*'
done
unset QEMU_CPU
if [ "${q4[max]}" != "${q4[cortex-a53]}" ] || [ -z "${q4[max]}" ]; then
  echo "test_arm64: FAIL: the sdot and NEON tables generate different text"; exit 1
fi
if [ "${kq[max]}" != "${kq[cortex-a53]}" ] || [ -z "${kq[max]}" ]; then
  echo "test_arm64: FAIL: the sdot and NEON tables generate different Q4_K_M text"; exit 1
fi
echo "test_arm64: stories15M Q4_K_M, same text with both ARM tables: ${kq[max]}"
# The C API on aarch64: libpocket.so (what an Android app loads) under a dynamically linked C program, and
# the JNI glue cross-compiled against it.
aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples/simple.c -L"$BUILD" -lpocket -o "$BUILD/simple_c"
got=$(QEMU_LD_PREFIX=/usr/aarch64-linux-gnu LD_LIBRARY_PATH="$BUILD:/usr/lib/aarch64-linux-gnu" qemu-aarch64 "$BUILD/simple_c" \
  "$SHARED/golden/stories15M-q4_0.llamacpp.gguf" 'Once upon a time' 32 2>/dev/null)
if [ "$got" != "$(qemu-aarch64 "$BUILD/pocket" run -m "$SHARED/golden/stories15M-q4_0.llamacpp.gguf" -p 'Once upon a time' -n 32 --temp 0 --no-display-prompt 2>/dev/null)" ]; then
  echo "test_arm64: FAIL: examples/simple.c over the aarch64 libpocket.so differs from pocket run"; exit 1
fi
echo "test_arm64: examples/simple.c over the aarch64 libpocket.so = pocket run (stories15M Q4_0, 32 tokens)"
if [ -f bindings/android/build.sh ]; then
  CROSS=aarch64-linux-gnu-gcc ARM64_LIBDIR="$BUILD" POCKET_INCLUDE=include POCKET_LIBDIR="$BUILD" bash bindings/android/build.sh "$BUILD/jni"
fi
echo "test_arm64: passed"
