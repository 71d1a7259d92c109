#!/usr/bin/env bash
# Builds the binding and runs PocketTest against the reference CLI's greedy text.
#
#   test.sh PREFIX_OR_BUILD_DIR OUT MODEL POCKET_CLI
#   POCKET_INCLUDE=DIR POCKET_LIBDIR=DIR test.sh OUT MODEL POCKET_CLI
#
# Exit code: PocketTest's (0 when every check passed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case $# in
  3) build_args=("$1"); out="$1"; model="$2"; cli="$3" ;;
  4) build_args=("$1" "$2"); out="$2"; model="$3"; cli="$4" ;;
  *) echo "usage: test.sh PREFIX_OR_BUILD_DIR OUT MODEL POCKET_CLI   (or POCKET_INCLUDE=.. POCKET_LIBDIR=.. test.sh OUT MODEL POCKET_CLI)" >&2
     exit 2 ;;
esac
[[ -f "$model" ]] || { echo "test.sh: MODEL: no file $model" >&2; exit 2; }
[[ -x "$cli" ]] || { echo "test.sh: POCKET_CLI: $cli is not executable" >&2; exit 2; }

"$here/build.sh" "${build_args[@]}"
out="$(cd "$out" && pwd)"

# The reference: the CLI's greedy text and the '\n' it ends with; stderr carries its logs and timings.
expected="$out/expected.txt"
"$cli" run -m "$model" -p "Once upon a time" -n 64 --temp 0 --no-display-prompt -t 1 2>/dev/null >"$expected"
[[ -s "$expected" ]] || { echo "test.sh: the CLI wrote no text" >&2; exit 1; }

JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
"$JAVA_HOME/bin/java" -Xcheck:jni -Djava.library.path="$out" -cp "$out/classes" org.pocketllm.PocketTest "$model" "$expected"
