#!/bin/sh
# live_bench.sh: latency of the daemon's live path, delta sent -> alert received on NATS and on
# /stream, beside NATS alone (bench/live_latency.c; results in bench/README.md, "The live path").
#
#   bench/live_bench.sh BUILD_DIR [--rates 100,1000,10000] [--seconds 10] [--nodes 2000]
#                       [--analytics centrality,structure] [--keep]
#
# Builds nothing: BUILD_DIR must hold netassure and bench/live_latency. Starts a throwaway
# nats-server with JetStream (scripts/nats-tmp.sh), live_latency (the topology stream the daemon
# follows, and the subscriber on both outputs), and `netassure serve` with a temp data dir
# (SQLite), a ws source pointing at live_latency, the rule
# `{name: node-down, type: topology_change, on: [node_down], severity: major}` and NATS
# (jetstream: auto). live_latency runs every rate for --seconds each and prints the table. Then
# the daemon is stopped with SIGTERM (its exit status is printed), and everything this script
# started is stopped by a trap on any exit (--keep keeps the temp directory and its logs).
# Exit status 77 when nats-server is not installed.
set -eu

usage() {
    echo "usage: $0 BUILD_DIR [--rates 100,1000,10000] [--seconds 10] [--nodes 2000] [--analytics KINDS] [--keep]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
build=$1
shift
rates=100,1000,10000
seconds=10
nodes=2000
analytics=centrality,structure
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --rates) [ $# -ge 2 ] || usage; rates=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --nodes) [ $# -ge 2 ] || usage; nodes=$2; shift 2 ;;
    --analytics) [ $# -ge 2 ] || usage; analytics=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) usage ;;
    esac
done
build=$(cd "$build" && pwd)
bin=$build/netassure
lat=$build/bench/live_latency
for f in "$bin" "$lat"; do
    [ -x "$f" ] || { echo "$0: $f is not an executable (build it first)" >&2; exit 2; }
done

repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/na_live_bench.XXXXXX)
nats_dir=$tmp/nats
nats_started=0
daemon_pid=
lat_pid=

cleanup() {
    set +e
    if [ -n "$lat_pid" ]; then
        kill -TERM "$lat_pid" 2>/dev/null
        wait "$lat_pid" 2>/dev/null
    fi
    if [ -n "$daemon_pid" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    [ "$nats_started" = 1 ] && "$repo/scripts/nats-tmp.sh" stop "$nats_dir"
    if [ "$keep" = 1 ]; then
        echo "kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "== live_bench $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
nats_url=$("$repo/scripts/nats-tmp.sh" start "$nats_dir")
rc=$?
set -e
if [ $rc = 77 ]; then
    echo "SKIP: nats-server is not installed" >&2
    exit 77
fi
[ $rc = 0 ] || { echo "$0: scripts/nats-tmp.sh start failed ($rc)" >&2; exit 1; }
nats_started=1
echo "== nats-server $("$(command -v nats-server || echo /usr/sbin/nats-server)" --version 2>/dev/null) at $nats_url (JetStream on)"

stream_port=$(free_port)
daemon_port=$(free_port)
kinds=$(echo "$analytics" | sed 's/,/, /g')
cat >"$tmp/netassure.yaml" <<EOF
# written by bench/live_bench.sh
log_level: info
listen: "127.0.0.1:$daemon_port"
data_dir: "$tmp/data"
warehouse: sqlite
sources:
  - {name: up, type: ws, url: "ws://127.0.0.1:$stream_port/topology/stream"}
alert_rules:
  - {name: node-down, type: topology_change, on: [node_down], severity: major}
nats: {url: "$nats_url", jetstream: auto}
analytics: {kinds: [$kinds]}
EOF

# The stream first (the daemon connects to it), then the daemon.
"$lat" --daemon "127.0.0.1:$daemon_port" --nats "$nats_url" --port "$stream_port" \
    --rates "$rates" --seconds "$seconds" --nodes "$nodes" &
lat_pid=$!
"$bin" serve -c "$tmp/netassure.yaml" >"$tmp/daemon.out" 2>"$tmp/daemon.log" &
daemon_pid=$!
echo "== daemon pid $daemon_pid on 127.0.0.1:$daemon_port (SQLite in $tmp/data, analytics: $analytics), stream on port $stream_port"

set +e
wait "$lat_pid"
lat_rc=$?
set -e
lat_pid=
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
if kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    set +e
    wait "$daemon_pid"
    daemon_rc=$?
    set -e
    echo "== daemon stopped by SIGTERM, exit status $daemon_rc"
else
    set +e
    wait "$daemon_pid"
    daemon_rc=$?
    set -e
    echo "== the daemon was not running at the end (exit status $daemon_rc); log tail:"
    tail -n 20 "$tmp/daemon.log"
fi
daemon_pid=
errors=$(grep -c "ERROR" "$tmp/daemon.log" || true)
echo "== daemon log: $errors ERROR line(s)"
[ "$errors" = 0 ] || grep "ERROR" "$tmp/daemon.log" | head -n 5
[ "$lat_rc" = 0 ] || { echo "$0: live_latency failed ($lat_rc); daemon log tail:" >&2; tail -n 20 "$tmp/daemon.log" >&2; exit 1; }
exit 0
