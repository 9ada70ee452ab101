#!/usr/bin/env bash
# Checkpoint benchmark: the cost of operator checkpoints and the time to recover from them.
# A generator feeds bids and auctions through SQL with two aggregates and a join; per run:
#   - load with sql_checkpoints: true and with false (same data, alternating): rows/s;
#   - the checkpointed home restarted: time to restore the operators (the log's own line) and
#     until REST answers from the restored state; the checkpoint's size in the cache.
# Usage: bench/checkpoints.sh BUILD_DIR [RUNS] [EVENTS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=${1:-build}
runs=${2:-3}
events=${3:-4000000}
sluice=$(cd "$build" && pwd)/sluice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

config() {  # home, checkpoints (true|false), seed
  cat <<YAML
home_dir: $1
sql_checkpoints: $2
connections:
  - {name: gen, kind: generator, events: $events, seed: $3}
sources:
  - {name: bid, connection: gen}
  - {name: auction, connection: gen}
sql: |
  SELECT auction, count(*) AS bids, max(price) AS top INTO auction_stats FROM bid GROUP BY auction;
  SELECT a.category, count(*) AS bids, sum(b.price) AS volume INTO category_stats
  FROM bid b JOIN auction a ON b.auction = a.id GROUP BY a.category;
endpoints:
  - {name: auctions, path: /auctions, table: auction_stats}
  - {name: categories, path: /categories, table: category_stats}
api:
  host: 127.0.0.1
  rest: {port: 0}
YAML
}

load() {  # home, checkpoints, seed -> prints "rows seconds"
  config "$1" "$2" "$3" > "$work/sluice.yaml"
  load_to_end "$sluice" "$work/sluice.yaml" "$work/log" "$work/port"
}

on_rates=(); off_rates=(); restores=(); firsts=()
for run in $(seq 1 "$runs"); do
  rm -rf "$work/off"
  read -r rows secs < <(load "$work/off" false "$run")
  off_rates+=("$(awk -v r="$rows" -v s="$secs" 'BEGIN{printf "%.0f", r/s}')")
  rm -rf "$work/off" "$work/on"
  read -r rows secs < <(load "$work/on" true "$run")
  on_rates+=("$(awk -v r="$rows" -v s="$secs" 'BEGIN{printf "%.0f", r/s}')")
  cache="$work/on/cache/$(cat "$work/on/cache/CURRENT")"
  psize=$(mdb_stat -e "$cache" | awk '/Page size/{print $3}')
  state_pages=$(mdb_stat -s s:operators "$cache" | awk '/(Branch|Leaf|Overflow) pages/{n+=$3} END{print n}')
  state_mib=$(( state_pages * psize / 1048576 ))
  # Restart: restore, then the first answer from the restored state.
  first=$(seconds_to_first_answer "$sluice" "$work/sluice.yaml" "$work/log" "$work/port" \
    "/categories?limit=1")
  line=$(grep -o "restored the state of [0-9]* sql operator(s) from [0-9]* checkpointed changes in [0-9.]* s" "$work/log")
  restore=$(echo "$line" | awk '{print $(NF-1)}')
  restores+=("$restore"); firsts+=("$first")
  echo "run $run: $rows rows; load with checkpoints ${on_rates[-1]} rows/s, without ${off_rates[-1]} rows/s; checkpoint $state_mib MiB ($line); restart to first answer $first s"
done
echo "checkpoints median: load on $(median "${on_rates[@]}") rows/s vs off $(median "${off_rates[@]}") rows/s; restore $(median "${restores[@]}") s; restart to first answer $(median "${firsts[@]}") s over $runs runs ($(machine_line))"
