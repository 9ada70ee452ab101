#!/usr/bin/env bash
# make bench: every benchmark, results printed and kept under bench/out/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
mkdir -p "$here/out"
stamp=$(date -u +%Y-%m-%dT%H%MZ)
"$build/bench/micro_bench" --benchmark_min_time=1 | tee "$here/out/micro-$stamp.txt"
"$here/ingest.sh" "$build" 3 | tee "$here/out/ingest-$stamp.txt"
"$here/serving.sh" "$build" 3 10 | tee "$here/out/serving-$stamp.txt"
"$here/auth.sh" "$build" 5 10 | tee "$here/out/auth-$stamp.txt"
"$here/nexmark_peers.sh" "$build" 2000000 3 | tee "$here/out/nexmark-$stamp.txt"
"$here/postgres_cdc.sh" "$build" 10000000 2000000 3 | tee "$here/out/postgres_cdc-$stamp.txt"
"$here/query_api.sh" "$build" | tee "$here/out/query_api-$stamp.txt"
"$here/checkpoints.sh" "$build" 3 1000000 | tee "$here/out/checkpoints-$stamp.txt"
"$here/durability.sh" "$build" 3 2000000 | tee "$here/out/durability-$stamp.txt"
