#!/usr/bin/env bash
# pocket chat in a real terminal (ctest Chat.TmuxSession): two turns, a Ctrl-C in the middle of a
# reply (the reply stops, the program goes on), /reset, /save, and Ctrl-D to leave. tmux gives the
# program a terminal; every wait is bounded. The exit status file appears whole, by rename: read between
# the shell's `>` creating it and echo writing it, it would read empty (the likely cause of one failure
# under load, whose screen showed a normal session).
set -euo pipefail
POCKET=${1:?usage: test_chat.sh POCKET_BINARY MODEL}
MODEL=${2:?usage: test_chat.sh POCKET_BINARY MODEL}
command -v tmux >/dev/null || { echo "test_chat: tmux is missing (bash scripts/install_deps.sh)" >&2; exit 1; }
S=pocket-chat-test-$$
OUT=$(mktemp -d)
trap 'tmux kill-session -t "$S" 2>/dev/null || true; rm -rf "$OUT"' EXIT
tmux new-session -d -s "$S" -x 200 -y 50 "'$POCKET' chat -m '$MODEL' -c 1024 -n 200 --ignore-eos --temp 0 --repeat-penalty 1.1 2>'$OUT/stderr'; echo \"exit=\$?\" > '$OUT/exit.tmp'; mv '$OUT/exit.tmp' '$OUT/exit'; sleep 30"
screen() { tmux capture-pane -p -S -2000 -t "$S"; }
# Waits (at most $2 s) until the screen shows $1 at least $3 times.
wait_for() {
  for _ in $(seq 1 $(( $2 * 10 ))); do
    [ "$(screen | grep -c -- "$1" || true)" -ge "$3" ] && return 0
    sleep 0.1
  done
  echo "test_chat: timed out waiting for '$1' x$3"; screen; cat "$OUT/stderr"; exit 1
}
prompts() { screen | grep -c '^> ' || true; }
wait_for '^>' 30 1
tmux send-keys -t "$S" "Once upon a time, there was a little cat" Enter
wait_for '^>' 60 2                                  # turn 1 answered, a new prompt
tmux send-keys -t "$S" "The cat liked to play" Enter
wait_for '^>' 60 3                                  # turn 2
[ "$(screen | grep -c 'cat')" -ge 2 ] || { echo "test_chat: no reply text"; screen; exit 1; }
tmux send-keys -t "$S" "Tell me a long story about a dragon and a princess" Enter
for _ in $(seq 1 200); do                             # the reply has begun streaming ...
  [ -n "$(screen | grep -A1 'a dragon and a princess' | tail -n +2 | tr -d ' ')" ] && break
  sleep 0.02
done
tmux send-keys -t "$S" C-c                            # ... mid-reply: stops the reply only
wait_for '\[stopped\]' 20 1
wait_for '^>' 20 4
tmux send-keys -t "$S" "/save $OUT/history.json" Enter
wait_for 'saved 6 messages' 10 1                       # 3 user + 3 assistant (the stopped one too)
tmux send-keys -t "$S" "/reset" Enter
wait_for 'conversation cleared' 10 1
tmux send-keys -t "$S" "/save $OUT/after.json" Enter
wait_for 'saved 0 messages' 10 1
tmux send-keys -t "$S" C-d
for _ in $(seq 1 100); do [ -f "$OUT/exit" ] && break; sleep 0.1; done
[ "$(cat "$OUT/exit" 2>/dev/null)" = "exit=0" ] || { echo "test_chat: pocket chat did not exit 0 ($(cat "$OUT/exit" 2>/dev/null || echo 'no exit file'))"; screen; cat "$OUT/stderr"; exit 1; }
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert [x['role'] for x in m]==['user','assistant']*3, m; assert all(x['content'] for x in m if x['role']=='assistant'), m" "$OUT/history.json"
echo "test_chat: two turns, a Ctrl-C mid-reply, /save, /reset and Ctrl-D: ok"
