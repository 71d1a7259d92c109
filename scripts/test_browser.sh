#!/usr/bin/env bash
# The chat page in a real browser: Debian's chromium, driven headless by playwright-core (npm),
# against `pocket serve` on a free loopback port. Writes build/chat-page.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --browser
(cd tests/browser && npm ci --no-audit --no-fund --silent)
MODEL=${POCKET_BROWSER_MODEL:-models/stories15M.gguf}
[ -f "$MODEL" ] || MODEL=../shared/golden/stories15M-f32.llamacpp.gguf
node tests/browser/chat_page.test.mjs build/pocket "$MODEL" build/chat-page.png
