#!/usr/bin/env bash
# Grammar overhead: stories15M decoding freely and under bench/grammar_schema.json (a story as JSON:
# title, 3-6 characters with bounded names, ages, kinds, flags, a moral), alternating in one process,
# per generated token; sampled (temperature 0.8) and greedy. Then llama.cpp's grammar sampler on the
# same model and the same GBNF text (`pocket grammar --json-schema`), timed the same way by
# bench/grammar_llamacpp.mjs in node-llama-cpp@3.21.1, which this script installs once into
# $NODE_LLAMA_CPP_DIR (default /tmp/pocket-node-llama-cpp; about 750 MB; SKIP_LLAMACPP=1 skips it).
# Run when nothing else runs (2 cores).
# usage: bash bench/grammar_overhead.sh [MODEL] [REPETITIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-../shared/golden/stories15M-q8_0.llamacpp.gguf}
R=${2:-7}
NLC=${NODE_LLAMA_CPP_DIR:-/tmp/pocket-node-llama-cpp}
build/pocket sysinfo | head -3
gbnf=$(mktemp --suffix .gbnf)
trap 'rm -f "$gbnf"' EXIT
build/pocket grammar --json-schema bench/grammar_schema.json > "$gbnf"
if [ -z "${SKIP_LLAMACPP:-}" ] && [ ! -d "$NLC/node_modules/node-llama-cpp" ]; then
  mkdir -p "$NLC"
  (cd "$NLC" && npm init -y > /dev/null && npm i -E node-llama-cpp@3.21.1 --no-audit --no-fund > /dev/null)
fi
for t in 0.8 0; do
  echo "## temperature $t"
  echo
  build/pocket bench -m "$MODEL" --json-schema bench/grammar_schema.json -n 256 -r "$R" --temp "$t"
  echo
  if [ -z "${SKIP_LLAMACPP:-}" ]; then
    NODE_LLAMA_CPP_DIR=$NLC node bench/grammar_llamacpp.mjs "$MODEL" "$gbnf" "$R" "$t" 256
    echo
  fi
done
