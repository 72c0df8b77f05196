#!/bin/sh
# Builds NetAssure (release) and runs the main job: the daemon on the bundled default
# configuration (examples/netassure.yaml: the example topologies, alert rules, SQLite warehouse
# in ./netassure-data), serving the REST API and /stream on http://127.0.0.1:8080/ until Ctrl-C.
# Usage: scripts/run-example.sh [serve options...]   e.g. --listen 127.0.0.1:9090
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
echo "run-example: building (release) ..." >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNA_TESTS=OFF -DNA_BENCH=OFF >/dev/null
cmake --build build -j"$JOBS" >/dev/null
echo "run-example: starting the daemon; API docs at http://127.0.0.1:8080/docs (Ctrl-C stops)" >&2
exec ./build/netassure serve "$@"
