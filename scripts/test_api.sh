#!/usr/bin/env bash
# The C API as an app developer meets it (run by scripts/test.sh after the suite; the aarch64 part is in
# scripts/test_arm64.sh):
#  1. `cmake --install` into a temporary prefix;
#  2. tests/consumer, a project outside the build tree configured only against that prefix
#     (find_package(Pocket)), builds the examples against libpocket.so and libpocket.a; simple.c is also
#     built with nothing but pkg-config (cc $(pkg-config --cflags --libs pocket));
#  3. their greedy stories15M text = `pocket run`'s, byte for byte;
#  4. a prompt saved by one process and continued by another = the uninterrupted run;
#  5. the Python binding's tests (python3-pytest) and the JNI binding's Java test against the installed library.
# scripts/test_api.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MODEL=${POCKET_API_MODEL:-models/stories15M.gguf}
[ -f "$MODEL" ] || MODEL=../shared/golden/stories15M-f32.llamacpp.gguf
PROMPT="Once upon a time"
N=64
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test_api: FAIL: $*"; exit 1; }

cmake --build "$BUILD" -j"$(nproc)" --target pocket pocket_shared pocket_cli >/dev/null
prefix=$work/prefix
cmake --install "$BUILD" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name pocket.pc)
libdir=$(dirname "$(dirname "$pc")")
echo "test_api: installed into $prefix: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"

cmake -S tests/consumer -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
PKG_CONFIG_PATH=$(dirname "$pc") cc -std=c11 -Wall -Wextra -Werror -O2 examples/simple.c \
  $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs pocket) -Wl,-rpath,"$libdir" -o "$work/simple_pkgconfig"
# Only the installed library may be used: the build tree's must not be what the loader finds.
ldd "$work/consumer/simple" | grep -q "$libdir/libpocket.so.1" || fail "the consumer does not load $libdir/libpocket.so.1"
ldd "$work/consumer/simple_static" | grep -q libpocket && fail "simple_static loads libpocket.so"

"$prefix/bin/pocket" run -m "$MODEL" -p "$PROMPT" -n $N --temp 0 --no-display-prompt -t 1 >"$work/want.txt" 2>/dev/null
for exe in consumer/simple consumer/simple_static simple_pkgconfig; do
  "$work/$exe" "$MODEL" "$PROMPT" $N >"$work/got.txt" 2>/dev/null
  cmp -s "$work/got.txt" "$work/want.txt" || { diff "$work/got.txt" "$work/want.txt" | head; fail "$exe: text differs from pocket run"; }
  echo "test_api: $exe: $N greedy tokens = pocket run, byte for byte"
done
"$work/consumer/resume" "$MODEL" save "$work/prompt.state" "$PROMPT" 2>/dev/null
"$work/consumer/resume" "$MODEL" load "$work/prompt.state" $N >"$work/got.txt" 2>"$work/resume.err"
cmp -s "$work/got.txt" "$work/want.txt" || { diff "$work/got.txt" "$work/want.txt" | head; fail "the resumed run differs from the uninterrupted one"; }
grep -q "(0 evaluated again)" "$work/resume.err" || fail "the resumed run evaluated the prompt again: $(cat "$work/resume.err")"
echo "test_api: state saved by one process, continued by another = the uninterrupted run ($(cat "$work/resume.err"))"
printf 'The cat sat on the mat.\nA cat was sitting on a mat.\n' | "$work/consumer/embed" "$MODEL" >/dev/null 2>&1 || fail "embed"
printf 'Once upon a time\n' | "$work/consumer/chat" "$MODEL" 16 >/dev/null 2>&1 || fail "chat"

POCKET_LIBRARY="$libdir/libpocket.so.1" POCKET_MODEL="$MODEL" POCKET_CLI="$prefix/bin/pocket" PYTHONPATH=bindings/python \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider bindings/python/tests
if [ -f bindings/android/test.sh ]; then
  POCKET_INCLUDE="$prefix/include" POCKET_LIBDIR="$libdir" bash bindings/android/test.sh "$work/jni" "$MODEL" "$prefix/bin/pocket"
fi
echo "test_api: passed"
