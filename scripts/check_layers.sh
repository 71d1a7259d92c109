#!/usr/bin/env bash
# The layer rule: a file under src/<layer>/ may include only headers of its own layer or of layers
# with a lower rank; tools/ may include every layer. A back-up include (a lower layer reaching up,
# or two layers of the same rank reaching sideways) is an error naming the file, the line and both
# layers. Run by ctest (LayerRule.*) and so by CI; scripts/check_layers.sh [ROOT] checks another tree.
#
# rank  layer        what it owns
#   0   pocket       public headers (include/pocket: Status, Result)
#   1   core         mmap, CPU features, fp16, checks, timing, memory stats
#   2   dtype        tensor types, block formats, reference quantizers, group codec, KV row encodings
#   3   format       GGUF, safetensors and llama2.c readers/writers
#   3   kernels      the kernel tables (ref, AVX2, AVX-512, NEON)
#   3   kv           KV caches (contiguous, window + sinks, paged)
#   3   runtime      thread pool, bandwidth probe
#   4   tokenizer    vocabularies and tokenizers
#   4   sampling     the sampler chain
#   4   chat         chat templates (messages -> prompt text)
#   5   model        config, weights, forward pass
#   6   engine       Engine, options, memory plan, the decode step (Sequence)
#   7   quantize     the quantization toolkit (calibration, GPTQ, AWQ, pruning, mixed precision)
#   7   plan         device profiles, planner, --auto configuration
#   8   speculative  drafters, draft control, speculative decoding
#   9   eval         bench, perplexity, quality, plan check
#   9   server       OpenAI API, scheduler, HTTP
#   9   convert      llama2.c / HF -> GGUF, synthetic models
#  10   api          the C API (include/pocket/pocket.h) and the C++ Session under it
#  11   tools        the CLI
set -euo pipefail
ROOT=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
declare -A RANK=([pocket]=0 [core]=1 [dtype]=2 [format]=3 [kernels]=3 [kv]=3 [runtime]=3 [tokenizer]=4 [sampling]=4 [chat]=4 [model]=5 [engine]=6 [quantize]=7 [plan]=7 [speculative]=8 [eval]=9 [server]=9 [convert]=9 [api]=10 [tools]=11)
bad=0
checked=0
while IFS= read -r -d '' file; do
  rel=${file#"$ROOT"/}
  case "$rel" in
    src/*) layer=${rel#src/}; layer=${layer%%/*} ;;
    include/pocket/*) layer=pocket ;;
    tools/*) layer=tools ;;
    *) continue ;;
  esac
  if [ -z "${RANK[$layer]+x}" ]; then
    echo "check_layers: $rel: layer '$layer' has no rank (add it to scripts/check_layers.sh)"
    bad=1
    continue
  fi
  checked=$((checked + 1))
  while IFS=: read -r line target; do
    dep=${target%%/*}
    [ "$dep" = "$layer" ] && continue
    if [ -z "${RANK[$dep]+x}" ]; then
      echo "check_layers: $rel:$line: includes \"$target\" of unknown layer '$dep'"
      bad=1
    elif [ "${RANK[$dep]}" -ge "${RANK[$layer]}" ]; then
      echo "check_layers: $rel:$line: $layer (rank ${RANK[$layer]}) includes \"$target\" of $dep (rank ${RANK[$dep]}): include arrows must point down"
      bad=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]+/' "$file" | sed -E 's/^([0-9]+):.*"([^"]+)".*/\1:\2/')
done < <(find "$ROOT/src" "$ROOT/include" "$ROOT/tools" -type f \( -name '*.h' -o -name '*.cpp' \) -print0)
if [ "$bad" -ne 0 ]; then
  echo "check_layers: FAILED"
  exit 1
fi
echo "check_layers: $checked files, every include points down"
