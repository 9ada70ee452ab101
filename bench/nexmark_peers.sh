#!/usr/bin/env bash
# Nexmark side by side: Sluice's streaming time (nexmark_bench, null sink) against DuckDB and
# PostgreSQL computing each query once over the same events after loading them.
# Usage: bench/nexmark_peers.sh BUILD_DIR [EVENTS] [RUNS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
events=${2:-2000000}
runs=${3:-3}
queries="q0 q1 q2 q3 q4 q5 q7 q8"
work=$(mktemp -d /tmp/sluice_nexmark_XXXXXX)
chmod 755 "$work"
pgbin=/usr/lib/postgresql/15/bin
as_pg=""
[ "$(id -u)" -eq 0 ] && as_pg="runuser -u postgres --"
cleanup() {
  [ -d "$work/pg" ] && $as_pg $pgbin/pg_ctl -D "$work/pg" -m immediate stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "events: $events; machine: $(machine_line)"
"$build/bench/nexmark_bench" --dump "$work" --events "$events"
chmod 644 "$work"/*.csv
if ! command -v npm >/dev/null; then
  echo "nexmark_peers: npm is needed for the DuckDB peer (@duckdb/node-api)" >&2
  exit 1
fi
(cd "$here/peers" && [ -d node_modules/@duckdb ] || npm install --silent --no-audit --no-fund >/dev/null)

declare -A sluice_rate duck pg
while read -r q _ rate _; do
  sluice_rate[${q%:}]=$rate
done < <("$build/bench/nexmark_bench" --events "$events" --runs "$runs" $queries)

for run in $(seq 1 "$runs"); do
  while read -r q secs rows; do duck[$q]="${duck[$q]:-} $secs"; done \
    < <(node "$here/peers/duckdb_nexmark.mjs" "$work" $queries)
done

[ -n "$as_pg" ] && chown postgres "$work"
port=$(free_port)
$as_pg $pgbin/initdb -D "$work/pg" -U postgres --auth=trust --locale=C -E UTF8 --no-sync >/dev/null
$as_pg $pgbin/pg_ctl -D "$work/pg" -l "$work/pg.log" -w -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=UTC -c shared_buffers=1GB -c work_mem=256MB" start >/dev/null
psql_run() { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_run -c "CREATE TABLE person (id bigint, name text, email_address text, credit_card text, city text, state text, date_time timestamp, extra text);
CREATE TABLE auction (id bigint, item_name text, description text, initial_bid bigint, reserve bigint, date_time timestamp, expires timestamp, seller bigint, category bigint, extra text);
CREATE TABLE bid (auction bigint, bidder bigint, price bigint, channel text, url text, date_time timestamp, extra text);
COPY person FROM '$work/person.csv' CSV HEADER; COPY auction FROM '$work/auction.csv' CSV HEADER; COPY bid FROM '$work/bid.csv' CSV HEADER; ANALYZE;"
for q in $queries; do
  sql=$(cd "$here/peers" && node -e 'import("./queries.mjs").then(m => console.log(m.postgres[process.argv[1]]))' "$q")
  for run in $(seq 1 "$runs"); do
    ms=$(psql_run -c '\timing on' -c "SELECT count(*) FROM ($sql) x" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    pg[$q]="${pg[$q]:-} $(awk -v m="$ms" 'BEGIN{printf "%.3f", m/1000}')"
  done
done

printf '%-4s %14s %10s %12s %12s %16s\n' query "sluice ev/s" "sluice s" "duckdb s" "postgres s" "sluice/duckdb"
for q in $queries; do
  rate=${sluice_rate[$q]}
  ss=$(awk -v e="$events" -v r="$rate" 'BEGIN{printf "%.3f", e/r}')
  ds=$(median ${duck[$q]})
  ps=$(median ${pg[$q]})
  printf '%-4s %14s %10s %12s %12s %16s\n' "$q" "$rate" "$ss" "$ds" "$ps" \
    "$(awk -v a="$ss" -v b="$ds" 'BEGIN{printf "%.2f", a/b}')"
done
