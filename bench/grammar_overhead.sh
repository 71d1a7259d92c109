#!/usr/bin/env bash
# Grammar overhead: stories15M decoding freely and under bench/grammar_schema.json (a story as JSON:
# title, 3-6 characters with bounded names, ages, kinds, flags, a moral), alternating in one process,
# per generated token; sampled (temperature 0.8) and greedy. Run when nothing else runs (2 cores).
# usage: bash bench/grammar_overhead.sh [MODEL] [REPETITIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-../shared/golden/stories15M-q8_0.llamacpp.gguf}
R=${2:-7}
build/pocket sysinfo | head -3
for t in 0.8 0; do
  build/pocket bench -m "$MODEL" --json-schema bench/grammar_schema.json -n 256 -r "$R" --temp "$t"
  echo
done
