#!/usr/bin/env bash
# Speculative decoding on stories15M (F32 target, ../shared): speedup over plain decoding of the same
# target measured in the same run (pocket bench alternates the two, repetition by repetition).
#   bench/speculative.sh            -> Markdown table on stdout
# MODEL (F32 target), DRAFT_Q4 / DRAFT_Q8 (draft files), THREADS (default "1,2"), REPS (5), N (200).
set -euo pipefail
cd "$(dirname "$0")/.."
POCKET=${POCKET:-build/pocket}
SHARED=${SHARED:-../shared}
MODEL=${MODEL:-$SHARED/golden/stories15M-f32.llamacpp.gguf}
DRAFT_Q4=${DRAFT_Q4:-$SHARED/golden/stories15M-q4_0.llamacpp.gguf}
DRAFT_Q8=${DRAFT_Q8:-$SHARED/golden/stories15M-q8_0.llamacpp.gguf}
THREADS=${THREADS:-1,2}
REPS=${REPS:-5}
N=${N:-200}
STORY="The little dog was very happy because"
REPEAT="Tom said: I like my red ball. Tom said: I like my red ball. Tom said: I like my red ball. Tom said:"
COUNT="one, two, three, four, five, one, two, three, four, five, one, two, three,"

CALIB=${CALIB:-$SHARED/data/stories-calib.txt}
row() { "$POCKET" bench -m "$MODEL" -n "$N" -t "$THREADS" -r "$REPS" "$@" | tail -n +3; }
echo "| model | drafter | adaptive | threads | tokens | plain tokens/s | speculative tokens/s | speedup | acceptance | tokens/verification | drafting share | same tokens | prompt |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
emit() { local label=$1; shift; row "$@" | sed "s/\$/ $label |/"; }
emit "story" --draft "$DRAFT_Q4" --text "$STORY"
emit "story" --draft "$DRAFT_Q4" --draft-vocab-text "$CALIB" --text "$STORY"
emit "story" --self-draft-type q4_0 --text "$STORY"
emit "story" --self-draft-type q4_0 --draft-vocab-text "$CALIB" --text "$STORY"
emit "story" --draft "$DRAFT_Q8" --text "$STORY"
emit "story" --draft "$DRAFT_Q8" --draft-vocab-text "$CALIB" --text "$STORY"
emit "story, temp 0.8" --self-draft-type q4_0 --draft-vocab-text "$CALIB" --text "$STORY" --temp 0.8
emit "repetitive" --lookup --draft-max 16 --text "$REPEAT"
emit "counting (lookup fails)" --lookup --text "$COUNT"
emit "counting (lookup fails)" --lookup --text "$COUNT" --no-adaptive
emit "story (weak draft)" --self-draft-layers 1 --text "$STORY"
emit "story (weak draft)" --self-draft-layers 1 --text "$STORY" --no-adaptive
