#!/usr/bin/env bash
# stories15M quantized by `pocket quantize --type <preset>` (the bytes llama-quantize writes: tests
# KQuants.*) against llama-perplexity's numbers for llama-quantize's files (golden/kquants-stories15M.json,
# same eval text, -c 256, F16 KV cache as llama.cpp's default).
#   bash bench/kquants_perplexity.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-$(nproc)}
SHARED=${POCKET_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| type | pocket PPL | llama.cpp PPL | difference |"
echo "|---|---|---|---|"
for t in ${POCKET_KQ_TYPES:-q6_k q5_k_m q5_1 q5_0 q4_k_m q4_k_s q3_k_m iq4_xs iq4_nl}; do
  build/pocket quantize "$SHARED/golden/stories15M-f32.llamacpp.gguf" "$work/$t.gguf" --type "$t" --force >/dev/null 2>&1
  ours=$(build/pocket perplexity -m "$work/$t.gguf" -f "$SHARED/data/stories-eval.txt" -c 256 --kv-type f16 -t "$T" 2>&1 |
    grep -o 'perplexity: [0-9.]*' | awk '{print $2}')
  ref=$(/usr/bin/python3 -c "import json,sys; print(json.load(open('$SHARED/golden/kquants-stories15M.json'))['files']['stories15M-$t.llamacpp.gguf']['ppl'][0])")
  echo "| $t | $ours | $ref | $(/usr/bin/python3 -c "print('%+.3f %%' % (100 * ($ours - $ref) / $ref))") |"
done
