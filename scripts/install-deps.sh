#!/bin/sh
# Installs the Debian 12 packages NetAssure needs to build, run and test.
# Idempotent and non-interactive; run as root (or through sudo).
#   scripts/install-deps.sh          build + runtime packages
#   scripts/install-deps.sh --test   also the test oracles, sanitizer and fuzzer runtimes
set -eu

BUILD_PKGS="build-essential cmake pkg-config
  libigraph-dev libjansson-dev libyaml-dev libxml2-dev
  libopenblas-dev liblapacke-dev"
TEST_PKGS="clang libclang-rt-14-dev libfuzzer-14-dev libcmocka-dev
  python3 python3-networkx python3-numpy python3-scipy python3-igraph
  python3-jsonschema"

pkgs=$BUILD_PKGS
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs $TEST_PKGS"
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
