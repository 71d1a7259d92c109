#!/usr/bin/env bash
# Times pocket and llama.cpp on the same GGUF files, alternating them in one run.
#   bench/compare_llamacpp.sh [shape:type ...]        (default: smollm2-135m:q8_0 smollm2-135m:q4_0
#                                                                tinyllama-1.1b:q8_0 tinyllama-1.1b:q4_0)
# Synthetic random-weight models (pocket synth) go to $SYNTH_DIR (default /tmp/pocket-synth).
# LLAMA_BENCH=/path/to/llama-bench adds llama.cpp's numbers; THREADS (default "1,2"), REPS (3),
# PP (128), TG (64) set the tests. NODE_LLAMA_CPP=1 adds the llama.cpp of 2026 prebuilt in
# node-llama-cpp@3.21.1 (installed once into $NODE_LLAMA_CPP_DIR, default /tmp/pocket-node-llama-cpp,
# about 750 MB), timed by bench/llamacpp_speed.mjs at each thread count and prompt length (Node's own
# thread distorts 2-thread decode on 2 cores: only its prefill counts there). PP may be a list
# ("128,512"). Output: Markdown on stdout, JSON per model in $SYNTH_DIR (POCKET_JSON=0: no JSON, one
# pocket run instead of two).
set -euo pipefail
cd "$(dirname "$0")/.."
POCKET=${POCKET:-build/pocket}
SYNTH_DIR=${SYNTH_DIR:-/tmp/pocket-synth}
THREADS=${THREADS:-1,2}
REPS=${REPS:-3}
PP=${PP:-128}
TG=${TG:-64}
mkdir -p "$SYNTH_DIR"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(smollm2-135m:q8_0 smollm2-135m:q4_0 tinyllama-1.1b:q8_0 tinyllama-1.1b:q4_0)

"$POCKET" sysinfo -t "$THREADS"
echo
for spec in "${specs[@]}"; do
  shape=${spec%%:*}
  type=${spec##*:}
  model="$SYNTH_DIR/$shape-$type.gguf"
  if [ ! -f "$model" ]; then
    case $type in
      f32 | f16 | q8_0 | q4_0 | q4_1) "$POCKET" synth --shape "$shape" --type "$type" -o "$model" ;;
      *)  # a llama-quantize mix (q4_k_m, q6_k, iq4_xs, ...): from an F16 synth file, by pocket quantize
        [ -f "$SYNTH_DIR/$shape-f16.gguf" ] || "$POCKET" synth --shape "$shape" --type f16 -o "$SYNTH_DIR/$shape-f16.gguf"
        "$POCKET" quantize "$SYNTH_DIR/$shape-f16.gguf" "$model" --type "$type" > /dev/null ;;
    esac
  fi
  echo "### $shape $type"
  "$POCKET" bench -m "$model" -p "$PP" -n "$TG" -t "$THREADS" -r "$REPS"
  [ "${POCKET_JSON:-1}" = 0 ] || "$POCKET" bench -m "$model" -p "$PP" -n "$TG" -t "$THREADS" -r "$REPS" -o json --no-bandwidth > "$SYNTH_DIR/$shape-$type.pocket.json"
  if [ -n "${LLAMA_BENCH:-}" ]; then
    echo
    echo "llama.cpp (llama-bench):"
    "$LLAMA_BENCH" -m "$model" -p "$PP" -n "$TG" -t "$THREADS" -r "$REPS" 2>/dev/null | grep -E "^\| (model|---|llama|qwen2)" || true
  fi
  if [ -n "${NODE_LLAMA_CPP:-}" ]; then
    NLC=${NODE_LLAMA_CPP_DIR:-/tmp/pocket-node-llama-cpp}
    if [ ! -d "$NLC/node_modules/node-llama-cpp" ]; then
      mkdir -p "$NLC"
      (cd "$NLC" && npm init -y > /dev/null && npm i -E node-llama-cpp@3.21.1 --no-audit --no-fund > /dev/null)
    fi
    echo
    echo "| engine | model | threads | test | tokens/s (median) | runs |"
    echo "|---|---|---|---|---|---|"
    for t in ${THREADS//,/ }; do
      for p in ${PP//,/ }; do NODE_LLAMA_CPP_DIR=$NLC node bench/llamacpp_speed.mjs "$model" "$t" "$p" "$TG" "$REPS"; done
    done
  fi
  echo
done
