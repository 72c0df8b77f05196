#!/bin/sh
# Runs the whole test suite, as CI does (.ci/run):
#   1. release build with -Werror; every test (unit, integration, NetworkX oracle)
#   2. ASan + UBSan build; every test again against the instrumented library and binary
#   3. clang libFuzzer build; each fuzz target for NA_FUZZ_SECONDS (default 30) seconds
# Needs the packages of `scripts/install-deps.sh --test`. Stops at the first failing stage.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
FUZZ_SECONDS=${NA_FUZZ_SECONDS:-30}
# The oracles are Debian's python3 packages; make sure tests never pick another interpreter.
export PATH="/usr/bin:$PATH"
# NetworkX answers for the oracle test: computed in the release run, reused by the ASan run.
export NETASSURE_ORACLE_CACHE="$PWD/build/oracle-cache"

stage() { printf '\n==== %s ====\n' "$*"; }

# A throwaway PostgreSQL for the warehouse tests (both runs share it; each test makes its own
# database). Removed on exit, whatever happens.
PG_DIR=$(mktemp -d /tmp/netassure-pg.XXXXXX)
cleanup() { ./scripts/pg-tmp.sh stop "$PG_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
stage "PostgreSQL (throwaway cluster)"
NETASSURE_PG_URL=$(./scripts/pg-tmp.sh start "$PG_DIR")
export NETASSURE_PG_URL
echo "PostgreSQL at $NETASSURE_PG_URL"

stage "release build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNA_TESTS=ON -DNA_BENCH=ON -DNA_SANITIZE=OFF
cmake --build build -j"$JOBS"

stage "tests (release)"
ctest --test-dir build --output-on-failure -j"$JOBS"

stage "ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNA_SANITIZE=ON -DNA_BENCH=OFF
cmake --build build-asan -j"$JOBS"

stage "tests (ASan + UBSan)"
ctest --test-dir build-asan --output-on-failure -j"$JOBS"

stage "fuzz targets (${FUZZ_SECONDS} s each)"
CC=clang cmake -S . -B build-fuzz -DNA_FUZZ=ON -DNA_FUZZ_SECONDS="$FUZZ_SECONDS"
cmake --build build-fuzz -j"$JOBS"
ctest --test-dir build-fuzz --output-on-failure -L fuzz

stage "all tests passed"
