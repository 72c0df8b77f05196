#!/bin/sh
# Installs the Debian 12 packages NetAssure needs to build, run and test.
# Idempotent and non-interactive; run as root (or through sudo).
#   scripts/install-deps.sh          build + runtime packages
#   scripts/install-deps.sh --test   also the test oracles, sanitizer and fuzzer runtimes,
#                                    PostgreSQL (tests start a throwaway cluster)
#   scripts/install-deps.sh --bench  test packages plus wrk, nginx and sqlite3 for bench/
set -eu

BUILD_PKGS="build-essential cmake pkg-config
  libigraph-dev libjansson-dev libyaml-dev libxml2-dev
  libopenblas-dev liblapacke-dev
  libwebsockets-dev libsqlite3-dev libpq-dev libnats-dev
  libsnmp-dev libmaxminddb-dev"
TEST_PKGS="clang libclang-rt-14-dev libfuzzer-14-dev libcmocka-dev
  python3 python3-networkx python3-numpy python3-scipy python3-igraph
  python3-jsonschema python3-requests postgresql nats-server python3-websocket
  snmp snmpd snmpsim lldpd"
BENCH_PKGS="wrk nginx-light sqlite3"

pkgs=$BUILD_PKGS
case "${1:-}" in
    --test) pkgs="$pkgs $TEST_PKGS" ;;
    --bench) pkgs="$pkgs $TEST_PKGS $BENCH_PKGS" ;;
esac

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
