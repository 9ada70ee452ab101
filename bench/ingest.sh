#!/usr/bin/env bash
# Ingest benchmark: generator -> cache for 10 million bids (a keyless, multiset endpoint),
# through the real `sluice run`. Reports rows/s (from the load's own timing line) and cache
# bytes per row. Usage: bench/ingest.sh BUILD_DIR [RUNS] [BIDS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=${1:-build}
runs=${2:-3}
bids=${3:-10000000}
sluice=$(cd "$build" && pwd)/sluice
events=$(( bids * 50 / 46 + 50 ))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rates=()
for run in $(seq 1 "$runs"); do
  rm -rf "$work/home" "$work/port" "$work/log"
  cat > "$work/sluice.yaml" <<YAML
home_dir: $work/home
log_level: info
connections:
  - {name: gen, kind: generator, events: $events, seed: $run}
sources:
  - {name: bid, connection: gen}
endpoints:
  - {name: bids, path: /bids, table: bid}
api:
  host: 127.0.0.1
  rest: {port: 0}
YAML
  "$sluice" run -c "$work/sluice.yaml" --port-file "$work/port" >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    grep -q "all sources are done" "$work/log" && break
    sleep 0.1
  done
  kill -TERM $pid; wait $pid || true
  line=$(grep -o "loaded [0-9]* rows in [0-9.]* s" "$work/log" | head -1)
  rows=$(echo "$line" | awk '{print $2}')
  secs=$(echo "$line" | awk '{print $5}')
  cache="$work/home/cache/$(cat "$work/home/cache/CURRENT")"
  bytes=$(stat -c %s "$cache/data.mdb")
  used=$(mdb_stat -e "$cache" | awk '/Number of pages used/{print $5}')
  psize=$(mdb_stat -e "$cache" | awk '/Page size/{print $3}')
  rate=$(awk -v r="$rows" -v s="$secs" 'BEGIN{printf "%.0f", r/s}')
  per_row=$(awk -v u="$used" -v p="$psize" -v r="$rows" 'BEGIN{printf "%.1f", u*p/r}')
  echo "run $run: $rows rows in $secs s = $rate rows/s; cache pages used $((used*psize/1048576)) MiB = $per_row bytes/row (file $((bytes/1048576)) MiB)"
  rates+=("$rate")
done
echo "ingest median: $(median "${rates[@]}") rows/s over $runs runs ($(machine_line))"
