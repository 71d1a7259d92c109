#!/usr/bin/env bash
# ThreadSanitizer over the concurrent code: the thread pool, thread-count determinism, speculative
# decoding (draft and target share one pool), packing weights on the engine's threads, and the server
# (scheduler thread, the HTTP front's I/O thread and handler pool; 16 concurrent clients, cancellation, hostile clients). Builds build-tsan; not in every CI run (time), see docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-tsan
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOCKET_TSAN=ON >/dev/null
cmake --build "$B" -j"${JOBS:-$(nproc)}" --target unit_tests model_tests server_tests pocket_cli
export POCKET_SANITIZE=1  # the smaller versions of the slow model tests (as under ASan)
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
"$B/tests/unit_tests" --gtest_brief=1 --gtest_filter='ThreadPool*'
"$B/tests/model_tests" --gtest_brief=1 --gtest_filter='Batching.*:Speculative*:PackedWeights.*'
"$B/tests/server_tests" --gtest_brief=1
echo "test_tsan: passed"
