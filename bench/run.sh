#!/bin/sh
# run.sh: builds the benchmarks in Release (in their own build directory) and runs them. Without
# a section flag it runs what it always ran: bench_importance (ours vs the naive igraph loop on
# Barabasi-Albert graphs and Topology Zoo Kdl) and bench_importance_networkx.py (ours vs
# NetworkX). See bench/README.md.
#
#   bench/run.sh [--importance] [--http] [--warehouse] [--live] [--snmp] [BUILD_DIR]
#                                   default BUILD_DIR: <repo>/build-bench
#
#   --importance  bench_importance and bench_importance_networkx.py (the default section)
#   --http        bench/http_bench.sh: the daemon's REST API against nginx, SQLite and PostgreSQL
#   --warehouse   warehouse_bench at full size on SQLite and PostgreSQL (a pg-tmp.sh cluster
#                 unless NETASSURE_PG_URL is set)
#   --live        bench/live_bench.sh: delta -> alert latency on NATS and /stream beside NATS
#                 alone (needs nats-server)
#   --snmp        bench/snmp_bench.py: `netassure poll` against snmpbulkwalk and snmpsimd alone,
#                 snmpsimd serving copies of the snmprec recordings
# Given any flag, only the sections named run.
#
# Environment: NETASSURE_SHARED_DATA (default <repo>/../shared/data) for the Topology Zoo;
# BENCH_ARGS / BENCH_NX_ARGS / BENCH_HTTP_ARGS / BENCH_WH_ARGS add options to the programs (e.g.
# BENCH_NX_ARGS=--full, BENCH_HTTP_ARGS="--backends sqlite", BENCH_LIVE_ARGS="--seconds 5");
# BENCH_SNMP_ARGS="--copies 200"; BENCH_CMAKE_ARGS adds cmake options.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${NETASSURE_SHARED_DATA:-$repo/../shared/data}
run_importance=0
run_http=0
run_wh=0
run_live=0
run_snmp=0
build=
while [ $# -gt 0 ]; do
    case "$1" in
    --importance) run_importance=1 ;;
    --http) run_http=1 ;;
    --warehouse) run_wh=1 ;;
    --live) run_live=1 ;;
    --snmp) run_snmp=1 ;;
    -*) echo "usage: $0 [--importance] [--http] [--warehouse] [--live] [--snmp] [BUILD_DIR]" >&2; exit 2 ;;
    *) build=$1 ;;
    esac
    shift
done
[ $((run_importance + run_http + run_wh + run_live + run_snmp)) -gt 0 ] || run_importance=1
build=${build:-$repo/build-bench}

targets=
[ $run_importance = 1 ] && targets="$targets bench_importance"
[ $run_http = 1 ] && targets="$targets netassure"
[ $run_wh = 1 ] && targets="$targets warehouse_bench"
[ $run_live = 1 ] && targets="$targets netassure live_latency"
[ $run_snmp = 1 ] && targets="$targets netassure"

# Release, no sanitizers, -Werror on like every other build (CI's release build is -O2 too).
# shellcheck disable=SC2086
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNA_SANITIZE=OFF \
      -DNA_TESTS=OFF -DNA_BENCH=ON ${BENCH_CMAKE_ARGS:-} >/dev/null
for t in $targets; do
    cmake --build "$build" -j2 --target "$t" >/dev/null
done

pg_dir=
cleanup() {
    [ -z "$pg_dir" ] || "$repo/scripts/pg-tmp.sh" stop "$pg_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $run_importance = 1 ]; then
    # shellcheck disable=SC2086
    "$build/bench/bench_importance" --zoo "$shared/topology-zoo" ${BENCH_ARGS:-}
    echo
    # shellcheck disable=SC2086
    /usr/bin/python3 "$repo/bench/bench_importance_networkx.py" --bench "$build/bench/bench_importance" \
        --zoo "$shared/topology-zoo" ${BENCH_NX_ARGS:-}
fi
if [ $run_http = 1 ]; then
    echo
    # shellcheck disable=SC2086
    "$repo/bench/http_bench.sh" "$build/netassure" ${BENCH_HTTP_ARGS:-}
fi
if [ $run_wh = 1 ]; then
    echo
    pg=${NETASSURE_PG_URL:-}
    if [ -z "$pg" ] && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        pg_dir=$(mktemp -d /tmp/na_wh_pg.XXXXXX)
        rmdir "$pg_dir"
        pg=$("$repo/scripts/pg-tmp.sh" start "$pg_dir")
        echo "== PostgreSQL: scripts/pg-tmp.sh cluster (its defaults, fsync=off), $pg"
    fi
    # SQLite first, then PostgreSQL: one at a time (--no-sqlite for the second).
    # shellcheck disable=SC2086
    NETASSURE_PG_URL='' "$build/bench/warehouse_bench" ${BENCH_WH_ARGS:-}
    if [ -n "$pg" ]; then
        # shellcheck disable=SC2086
        "$build/bench/warehouse_bench" --pg "$pg" --no-sqlite ${BENCH_WH_ARGS:-}
    else
        echo "postgresql skipped: no NETASSURE_PG_URL and no /usr/lib/postgresql/15/bin"
    fi
fi
if [ $run_live = 1 ]; then
    echo
    # shellcheck disable=SC2086
    "$repo/bench/live_bench.sh" "$build" ${BENCH_LIVE_ARGS:-}
fi
if [ $run_snmp = 1 ]; then
    echo
    # exit status 77: skipped (no recordings or no snmpsim / net-snmp tools)
    # shellcheck disable=SC2086
    /usr/bin/python3 "$repo/bench/snmp_bench.py" "$build/netassure" --data "$shared/snmprec" \
        ${BENCH_SNMP_ARGS:-} || [ $? = 77 ]
fi
echo "== done, load $(cut -d' ' -f1-3 /proc/loadavg)"
