#!/bin/sh
# run.sh: builds the benchmarks in Release (in their own build directory) and runs all of them:
# bench_importance (ours vs the naive igraph loop on Barabasi-Albert graphs and Topology Zoo
# Kdl) and bench_importance_networkx.py (ours vs NetworkX). See bench/README.md.
#
#   bench/run.sh [BUILD_DIR]        default BUILD_DIR: <repo>/build-bench
#
# Environment: NETASSURE_SHARED_DATA (default <repo>/../shared/data) for the Topology Zoo;
# BENCH_ARGS / BENCH_NX_ARGS add options to the two programs (e.g. BENCH_NX_ARGS=--full).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build-bench}
shared=${NETASSURE_SHARED_DATA:-$repo/../shared/data}

# Release, no sanitizers, -Werror on like every other build (CI's release build is -O2 too).
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNA_SANITIZE=OFF \
      -DNA_TESTS=OFF -DNA_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_importance >/dev/null

echo "== $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$build/bench/bench_importance" --zoo "$shared/topology-zoo" ${BENCH_ARGS:-}
echo
# shellcheck disable=SC2086
/usr/bin/python3 "$repo/bench/bench_importance_networkx.py" --bench "$build/bench/bench_importance" \
    --zoo "$shared/topology-zoo" ${BENCH_NX_ARGS:-}
echo "== done, load $(cut -d' ' -f1-3 /proc/loadavg)"
