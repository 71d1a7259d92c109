#!/usr/bin/env bash
# Agent API through real clients (ctest Clients.AgentApi): openai, @langchain/openai, ai +
# @ai-sdk/openai-compatible (npm, tests/clients/package-lock.json) against pocket serve on stories15M.
# scripts/test.sh installs the packages (npm ci in tests/clients) before ctest.
set -euo pipefail
POCKET=${1:?usage: test_clients.sh POCKET_BINARY [MODEL]}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODEL=${2:-$ROOT/../shared/golden/stories15M-q8_0.llamacpp.gguf}
cd "$ROOT/tests/clients"
if [ ! -d node_modules/openai ]; then
  echo "test_clients: tests/clients/node_modules is missing: run (cd tests/clients && npm ci), or bash scripts/test.sh" >&2
  exit 1
fi
POCKET_BIN="$POCKET" POCKET_MODEL="$MODEL" node --test --test-reporter=spec agent_api.test.mjs
