#!/usr/bin/env bash
# Planner vs measurement on this machine (README, "Deployment planner"): calibrate a host profile,
# then bench each model with --device host, which prints the planner's prediction for every row.
# Models: stories15M F32/Q4_0 (../shared/golden) and pocket synth shapes (written to $SYNTH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
POCKET=${POCKET:-build/pocket}
SYNTH_DIR=${SYNTH_DIR:-/tmp/pocket-synth}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
mkdir -p "$SYNTH_DIR"
PROFILE="$SYNTH_DIR/host.json"
"$POCKET" calibrate -o "$PROFILE" -t "$THREADS" >&2
models=(../shared/golden/stories15M-f32.llamacpp.gguf ../shared/golden/stories15M-q4_0.llamacpp.gguf)
for s in smollm2-135m:q8_0 smollm2-135m:q4_0 qwen2.5-0.5b:q4_0 tinyllama-1.1b:q4_0 tinyllama-1.1b:q8_0; do
  f="$SYNTH_DIR/${s%%:*}-${s##*:}.gguf"
  [ -f "$f" ] || "$POCKET" synth --shape "${s%%:*}" --type "${s##*:}" -o "$f" >&2
  models+=("$f")
done
echo "| model | test | threads | predicted tok/s | measured tok/s | error | predicted MiB | peak RSS MiB | error |"
echo "|---|---|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do  # one process per model: peak RSS is per process
  "$POCKET" bench -m "$m" -p 128 -n 64 -t "$THREADS" -r "$REPS" --no-bandwidth --device "$PROFILE" | tail -n 2
done
