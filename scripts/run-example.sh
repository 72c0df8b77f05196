#!/bin/sh
# Builds NetAssure (release) and runs the main job on the bundled example data.
# Usage: scripts/run-example.sh [EXAMPLE_FILE]   (default examples/clos-fabric.json)
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNA_TESTS=OFF -DNA_BENCH=OFF >/dev/null
cmake --build build -j"$JOBS" >/dev/null
exec ./build/netassure analyze "${1:-examples/clos-fabric.json}"
