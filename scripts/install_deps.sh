#!/usr/bin/env bash
# Installs the Debian packages PocketLLM builds and tests with (only those missing).
# --arm64: also the aarch64 cross toolchain, qemu-user and the arm64 libraries the cross build links
# (Debian multiarch), for scripts/test_arm64.sh. --browser: Debian's chromium, for scripts/test_browser.sh.
# --fuzz: clang with libFuzzer, for scripts/fuzz.sh.
set -euo pipefail
PACKAGES=(g++ cmake ninja-build pkg-config git
          libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libpcre2-dev libutf8proc-dev libboost-dev libcpp-httplib-dev
          python3-pytest openjdk-17-jdk-headless  # the Python and JNI bindings' tests (scripts/test_api.sh)
          python3-numpy  # the transformers-semantics reference of the HF converter test (tests/convert/hf_reference.py)
          tmux)  # drives pocket chat in a real terminal (scripts/test_chat.sh)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES=(clang libclang-rt-14-dev)
fi
if [ "${1:-}" = "--browser" ]; then
  PACKAGES=(chromium)
fi
if [ "${1:-}" = "--arm64" ]; then
  PACKAGES=(g++-aarch64-linux-gnu qemu-user libpcre2-dev:arm64 libutf8proc-dev:arm64 libgtest-dev:arm64)
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    [ "$(id -u)" -eq 0 ] && dpkg --add-architecture arm64 || sudo dpkg --add-architecture arm64
  fi
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with a Node.js that is not Debian's (e.g. nodesource bundles it): check the command.
[ -n "${1:-}" ] || command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
