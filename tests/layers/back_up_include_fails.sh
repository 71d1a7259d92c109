#!/usr/bin/env bash
# The layer check must fail on a back-up include: copy the tree, add one (dtype -> engine, and a
# sideways one, kv -> kernels), and expect check_layers.sh to refuse each, naming the file and layers.
set -euo pipefail
SRC=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expect_refused() {  # file include expected-text
  rm -rf "$tmp/tree"
  mkdir -p "$tmp/tree"
  cp -r "$SRC/src" "$SRC/include" "$SRC/tools" "$tmp/tree/"
  sed -i "0,/^#include/s||#include \"$2\"\n#include|" "$tmp/tree/$1"
  if out=$(bash "$SRC/scripts/check_layers.sh" "$tmp/tree" 2>&1); then
    echo "check_layers accepted a back-up include of $2 in $1:"; echo "$out"; exit 1
  fi
  grep -qF "$3" <<<"$out" || { echo "check_layers failed without naming it ($3):"; echo "$out"; exit 1; }
  echo "refused as expected: $(grep -F "$3" <<<"$out")"
}
expect_refused src/dtype/tensor_type.cpp engine/engine.h 'src/dtype/tensor_type.cpp:1: dtype (rank 2) includes "engine/engine.h" of engine (rank 6)'
expect_refused src/kv/kv_cache.cpp kernels/kernel_table.h 'src/kv/kv_cache.cpp:1: kv (rank 3) includes "kernels/kernel_table.h" of kernels (rank 3)'
bash "$SRC/scripts/check_layers.sh" "$SRC" >/dev/null
