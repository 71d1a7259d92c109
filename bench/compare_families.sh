#!/usr/bin/env bash
# Every architecture against the llama.cpp of 2026 (node-llama-cpp@3.21.1), teacher-forced: a
# random-weight file per family in its real shape (pocket synth; fewer layers and a shorter local
# window so the test reaches every layer kind in a few hundred positions), pocket's logits for a fixed
# random id sequence (`pocket logits`), the reference's distributions for the same ids, and
# bench/compare_logits.mjs's top-1 agreement and KL(reference || pocket) per file.
# usage: bench/compare_families.sh [TYPES="f32 q8_0 q4_k_m"] [SHAPES="..."]
# env: POCKET (build/pocket), POSITIONS (320), LAYERS (6), WINDOW (128), THREADS (2), OUT (/tmp/pocket-families),
#      NODE_LLAMA_CPP_DIR (installed there once, default /tmp/pocket-node-llama-cpp),
#      WRITER=gguf-py: the files are written by llama.cpp's gguf-py instead (bench/gguf_py_model.py; numpy
#      weights; types f32 and q8_0; GGUF_PY=the gguf-py directory of a llama.cpp checkout; Debian
#      python3-numpy and python3-sentencepiece)
set -euo pipefail
cd "$(dirname "$0")/.."
TYPES=${1:-"f32 q8_0 q4_k_m"}
SHAPES=${2:-"llama-3.2-1b qwen2.5-0.5b qwen3-0.6b gemma-2-2b gemma-3-1b phi-3.5-mini phi-4-mini smollm2-135m"}
POCKET=${POCKET:-build/pocket}
POSITIONS=${POSITIONS:-320}
LAYERS=${LAYERS:-6}
WINDOW=${WINDOW:-128}
THREADS=${THREADS:-2}
WRITER=${WRITER:-pocket}
OUT=${OUT:-/tmp/pocket-families}
NLC=${NODE_LLAMA_CPP_DIR:-/tmp/pocket-node-llama-cpp}
if [ ! -d "$NLC/node_modules/node-llama-cpp" ]; then
  mkdir -p "$NLC"
  (cd "$NLC" && npm init -y > /dev/null && npm i -E node-llama-cpp@3.21.1 --no-audit --no-fund > /dev/null)
fi
mkdir -p "$OUT"
for shape in $SHAPES; do
  vocab=$("$POCKET" synth --list | awk -v s="$shape" '$1 == s { gsub(",", "", $4); print $4 }')
  [ -n "$vocab" ] || { echo "compare_families: unknown shape $shape" >&2; exit 1; }
  # ids from 300 up: never the synthetic vocabulary's special or byte tokens
  /usr/bin/python3 -c "import random; random.seed(7); print(','.join(str(random.randrange(300, $vocab)) for _ in range($POSITIONS)))" > "$OUT/$shape.ids"
  # the local window of the shapes that have one (Gemma); the others have none
  win=(); case $shape in gemma*) win=(--window "$WINDOW") ;; esac
  [ "$WRITER" = gguf-py ] || "$POCKET" synth --shape "$shape" --layers "$LAYERS" "${win[@]}" --type f16 -o "$OUT/$shape-f16.gguf" --force 2> /dev/null
  for type in $TYPES; do
    model=$OUT/$shape-$type.gguf
    if [ "$WRITER" = gguf-py ]; then
      model=$OUT/$shape-$type.gguf-py.gguf
      GGUF_PY=${GGUF_PY:?set GGUF_PY to the gguf-py directory of a llama.cpp checkout} /usr/bin/python3 bench/gguf_py_model.py "$shape" "$model" --layers "$LAYERS" "${win[@]}" --type "$type"
    else case $type in
      f16) ;;
      f32 | q8_0 | q4_0) "$POCKET" synth --shape "$shape" --layers "$LAYERS" "${win[@]}" --type "$type" -o "$model" --force 2> /dev/null ;;
      *) "$POCKET" quantize "$OUT/$shape-f16.gguf" "$model" --type "$type" --force > /dev/null 2>&1 ;;
    esac; fi
    "$POCKET" logits -m "$model" --ids-file "$OUT/$shape.ids" -o "$OUT/$shape-$type.f32" -t "$THREADS"
    floor=()
    if [ "$type" != f32 ]; then  # the noise floor: the same file through the reference kernels
      POCKET_KERNELS=ref "$POCKET" logits -m "$model" --ids-file "$OUT/$shape.ids" -o "$OUT/$shape-$type.ref.f32" -t "$THREADS"
      floor=("$OUT/$shape-$type.ref.f32")
    fi
    NODE_LLAMA_CPP_DIR=$NLC node bench/compare_logits.mjs "$model" "$OUT/$shape.ids" "$OUT/$shape-$type.f32" "$THREADS" "${floor[@]}" |
      sed "s/^{/{\"shape\":\"$shape\",\"type\":\"$type\",\"writer\":\"$WRITER\",/"
    rm -f "$OUT/$shape-$type.f32" "$OUT/$shape-$type.ref.f32"
    [ "$WRITER" != gguf-py ] || rm -f "$model"
  done
done
