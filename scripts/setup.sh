#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, obtain the default model, generate a story.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
bash scripts/get_model.sh
build/pocket run -m models/stories15M.gguf -p "Once upon a time" -n 200 --temp 0.8 --seed 42 -t "$(nproc)"
