#!/usr/bin/env bash
# Durability benchmark: load throughput of the same generator + SQL pipeline with the change log
# off (`sluice run` without log:), with the log written but never fsynced (log.fsync: off), with
# group commit (log.fsync: 100ms) and with an fsync before every epoch commits (every_epoch, the
# default of `sluice run app`) — alternating in each run, medians reported; then the time a
# restart takes to redo the log and answer again.
# Usage: bench/durability.sh BUILD_DIR [RUNS] [EVENTS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=${1:-build}
runs=${2:-3}
events=${3:-2000000}
sluice=$(cd "$build" && pwd)/sluice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

config() {  # home, log line (may be empty)
  cat <<YAML
home_dir: $1
connections:
  - {name: gen, kind: generator, events: $events, seed: 1}
sources:
  - {name: bid, connection: gen}
sql: |
  SELECT auction, count(*) AS bids, max(price) AS top INTO auction_stats FROM bid GROUP BY auction;
endpoints:
  - {name: bids, path: /bids, table: bid}
  - {name: auctions, path: /auctions, table: auction_stats, primary_key: [auction]}
api:
  host: 127.0.0.1
  rest: {port: 0}
$2
YAML
}

load() {  # log line -> prints rows/s
  rm -rf "$work/home"
  config "$work/home" "$1" > "$work/sluice.yaml"
  load_to_end "$sluice" "$work/sluice.yaml" "$work/log" "$work/port" |
    awk '{printf "%.0f", $1/$2}'
}

declare -A rates
modes=(none off group every_epoch)
declare -A lines=([none]="" [off]="log: {fsync: 'off'}" [group]="log: {fsync: 100ms}"
                  [every_epoch]="log: {fsync: every_epoch}")
for run in $(seq 1 "$runs"); do
  summary="run $run:"
  for mode in "${modes[@]}"; do
    rate=$(load "${lines[$mode]}")
    rates[$mode]="${rates[$mode]:-} $rate"
    summary="$summary $mode $rate rows/s;"
  done
  echo "$summary"
done
# Restart of the last home (every_epoch): redo + first answer.
first=$(seconds_to_first_answer "$sluice" "$work/sluice.yaml" "$work/log" "$work/port" \
  "/auctions?limit=1")
log_mib=$(du -sm "$work/home/cache" | awk '{print $1}')
out="durability median over $runs runs of $events events:"
for mode in "${modes[@]}"; do
  # shellcheck disable=SC2086
  out="$out $mode $(median ${rates[$mode]}) rows/s;"
done
echo "$out restart to first answer ${first} s (cache + log ${log_mib} MiB) ($(machine_line))"
