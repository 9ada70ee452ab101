#!/usr/bin/env bash
# shellcheck disable=SC2154  # rows, customers, big_customers, *_pairs, planner_cap: from the generated params.sh
# Query API benchmark: the same orders table served by Sluice's REST query API and by a
# throwaway PostgreSQL 15 with the equivalent indexes, plus nginx serving a static file of a
# point lookup's size (the HTTP ceiling). Everything on loopback, on this machine.
#   - data: ROWS orders (bench/query_api/orders.py generate) as CSV, loaded into Sluice (files
#     source, endpoint /orders with indexes (customer_id, created_at), (status) and full text on
#     description) and into PostgreSQL (\copy; btree (customer_id, created_at), btree (status),
#     GIN on to_tsvector('simple', description); VACUUM ANALYZE);
#   - queries, parameters drawn per request (wrk Lua scripts and pgbench scripts in
#     bench/query_api/): point lookup by random id; the 50 latest orders of a random customer
#     (customer_id = ? ORDER BY created_at DESC LIMIT 50); full text, two words that occur
#     together in ~40 rows, LIMIT 50 -- once with "rare" pairs (one word in fewer than 1,000
#     rows) and once with "common" pairs (both words in more);
#   - before measuring, a few requests of each query must return the same rows from both;
#   - per run and query: wrk -t2 -c32 -d10s --latency (p50/p99 from the script's done()) and
#     pgbench -M prepared -c32 -j2 -T10 (p50/p99 from its --log; full text: one script per
#     word pair, so PostgreSQL plans each with its constants); nginx (open_file_cache, access
#     log off) with the point-lookup script, every path being the one file. A Sluice query
#     that takes over 0.5 s alone is measured with -c2 (noted in the output). Medians over
#     RUNS runs, ratios computed per run. About 6 minutes at the defaults on 2 cores.
# Usage: bench/query_api.sh BUILD_DIR [ROWS] [RUNS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
rows=${2:-1000000}
runs=${3:-3}
seconds=10
connections=32
slow_request_s=0.5   # a Sluice query slower than this alone is measured with -c2 (see below)
pgbin=/usr/lib/postgresql/15/bin
qa=$here/query_api
work=$(mktemp -d /tmp/sluice_query_api_XXXXXX)
chmod 755 "$work"
# A private copy: a concurrent rebuild cannot swap the binary during the run.
cp "$build/sluice" "$work/sluice"
sluice=$work/sluice
as_pg=""
[ "$(id -u)" -eq 0 ] && as_pg="runuser -u postgres --"
sluice_pid=""; nginx_pid=""
cleanup() {
  if [ -n "$sluice_pid" ] && kill -0 "$sluice_pid" 2>/dev/null; then
    kill -TERM "$sluice_pid" 2>/dev/null; wait "$sluice_pid" 2>/dev/null || true
  fi
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -TERM "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null || true
  fi
  [ -d "$work/pg" ] && $as_pg $pgbin/pg_ctl -D "$work/pg" -m immediate stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
fail() { echo "query_api: $*" >&2; exit 1; }

echo "Query API benchmark, $(date -u +%Y-%m-%d)"
echo "machine: $(machine_line); $("$sluice" version); $($pgbin/postgres --version); $(nginx -v 2>&1 | sed 's/.*: //'); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "command: bench/query_api.sh ${1:-build} $rows $runs"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- data ------------------------------------------------------------------------------------
t0=$(now)
python3 "$qa/orders.py" generate "$rows" "$work" || fail "generating the data failed"
source "$work/params.sh"
csv=$work/data/orders/orders.csv
echo "data: $rows orders, $(( $(stat -c %s "$csv") / 1048576 )) MiB of CSV, generated in $(secs_between "$t0" "$(now)") s;" \
  "$customers customers ($big_customers with >= 50 orders); full-text pairs: rare $rare_pairs; common $common_pairs"

# --- PostgreSQL --------------------------------------------------------------------------------
[ -n "$as_pg" ] && chown postgres "$work"
pg_port=$(free_port)
$as_pg $pgbin/initdb -D "$work/pg" -U postgres --auth=trust --locale=C -E UTF8 --no-sync >/dev/null
$as_pg $pgbin/pg_ctl -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg_port -k $work \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c shared_buffers=1GB \
  -c maintenance_work_mem=512MB" start >/dev/null
psql_run() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
t0=$(now)
psql_run -c "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL,
  created_at timestamptz NOT NULL, status text NOT NULL, total numeric(10,2) NOT NULL,
  description text NOT NULL)" \
  -c "\\copy orders FROM '$csv' WITH (FORMAT csv, HEADER true)" \
  -c "CREATE INDEX orders_customer_created ON orders (customer_id, created_at)" \
  -c "CREATE INDEX orders_status ON orders (status)" \
  -c "CREATE INDEX orders_description ON orders USING gin (to_tsvector('simple', description))" \
  -c "VACUUM ANALYZE orders" -c "CHECKPOINT"
echo "postgresql: loaded and indexed in $(secs_between "$t0" "$(now)") s; table $(psql_run -c \
  "SELECT pg_size_pretty(pg_table_size('orders')) || ', indexes ' || pg_size_pretty(pg_indexes_size('orders'))")"

# --- Sluice ------------------------------------------------------------------------------------
cat > "$work/sluice.yaml" <<YAML
home_dir: $work/home
connections:
  - {name: local, kind: files, path: $work/data, format: csv, on_error: fail}
sources:
  - name: orders
    connection: local
    table: orders
    schema:
      - {name: id, type: int, nullable: false}
      - {name: customer_id, type: int}
      - {name: created_at, type: timestamp}
      - {name: status, type: string}
      - {name: total, type: decimal}
      - {name: description, type: text}
    primary_key: [id]
endpoints:
  - name: orders
    path: /orders
    table: orders
    indexes:
      - {fields: [customer_id, created_at]}
      - {fields: [status]}
      - {full_text: description}
api: {host: 127.0.0.1, rest: {port: 0}}
YAML
t0=$(now)
"$sluice" run -c "$work/sluice.yaml" --port-file "$work/port" >"$work/sluice.log" 2>&1 &
sluice_pid=$!
wait_for_port_file "$work/port" 60 || { tail -20 "$work/sluice.log" >&2; fail "sluice did not start"; }
sport=$(cat "$work/port")
count=""
for _ in $(seq 1 3000); do
  count=$(curl -s -X POST "http://127.0.0.1:$sport/orders/count" -d '{}' | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
  [ "$count" = "$rows" ] && break
  kill -0 "$sluice_pid" 2>/dev/null || { tail -20 "$work/sluice.log" >&2; fail "sluice exited"; }
  sleep 0.2
done
[ "$count" = "$rows" ] || { tail -20 "$work/sluice.log" >&2; fail "sluice has $count of $rows rows after 600 s"; }
echo "sluice: loaded and indexed in $(secs_between "$t0" "$(now)") s (start until POST /orders/count = $rows);" \
  "cache $(du -sm "$work/home" | cut -f1) MiB on disk"

# --- same answers --------------------------------------------------------------------------
echo
python3 "$qa/orders.py" check "$sport" "$pg_port" "$work" || fail "Sluice and PostgreSQL disagree (above)"
tsquery_common=$(head -1 "$work/pairs_common.txt" | cut -d' ' -f1-2 | sed 's/ / \& /')
for q in "SELECT * FROM orders WHERE id = 12345" \
  "SELECT * FROM orders WHERE customer_id = 1 ORDER BY created_at DESC LIMIT 50" \
  "SELECT * FROM orders WHERE to_tsvector('simple', description) @@ to_tsquery('simple', '$tsquery_common') LIMIT 50"; do
  echo "postgresql plan of $q: $(psql_run -c "EXPLAIN (COSTS OFF) $q" | tr -s ' \n' ' ')"
done

# --- nginx: static files of a point lookup's and a range answer's size -------------------------
mkdir -p "$work/nginx/www"
# keep_median_body FILE: keeps the median-sized of the fetched body-* files (an odd number) as
# nginx/www/FILE and prints its size.
keep_median_body() {
  local count median
  count=$(find "$work/nginx" -maxdepth 1 -name 'body-*' | wc -l)
  median=$(for f in "$work"/nginx/body-*; do echo "$(stat -c %s "$f") $f"; done | sort -n |
    sed -n "$(( (count + 1) / 2 ))p")
  cp "${median#* }" "$work/nginx/www/$1"
  rm -f "$work"/nginx/body-*
  echo "${median%% *}"
}
for i in $(seq 1 101); do
  id=$(( (i * 7919) % rows + 1 ))
  curl -s -o "$work/nginx/body-$i" "http://127.0.0.1:$sport/orders/$id"
done
body_size=$(keep_median_body order.json)
# The range query's ceiling: a median range answer (21 customers).
for i in $(seq 1 21); do
  curl -s -o "$work/nginx/body-$i" -X POST "http://127.0.0.1:$sport/orders/query" \
    -d "{\"\$filter\":{\"customer_id\":$(( (i * 7919) % big_customers + 1 ))},\"\$order_by\":{\"created_at\":\"desc\"},\"\$limit\":50}"
done
range_body_size=$(keep_median_body range.json)
chmod -R a+rX "$work/nginx"
nginx_port=$(free_port)
nginx_range_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  open_file_cache max=16;
  types { application/json json; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/www;
    location / { try_files /order.json =404; }
  }
  server {
    listen 127.0.0.1:$nginx_range_port;
    root $work/nginx/www;
    location / { try_files /range.json =404; }
  }
}
NGINX
nginx -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.05; done
[ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$nginx_port/orders/1")" = "200 $body_size" ] ||
  fail "nginx does not serve the $body_size-byte file"
[ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$nginx_range_port/orders/1")" = "200 $range_body_size" ] ||
  fail "nginx does not serve the $range_body_size-byte file"

# --- measuring -------------------------------------------------------------------------------
# wrk_run NAME URL SCRIPT CONNECTIONS ARG -> "rps p50 p99"; warns about failed requests.
wrk_run() {
  local out line
  out=$(wrk -t2 -c"$4" -d"${seconds}s" --latency --timeout 60s -s "$3" "$2" -- "$5" 2>&1)
  echo "$out" > "$work/wrk-$1.txt"
  line=$(echo "$out" | grep '^RESULT ') || { echo "$out" >&2; fail "wrk ($1) printed no RESULT line"; }
  if ! echo "$line" | grep -q 'non2xx=0 socket_errors=0'; then
    echo "WARNING: $1: failed requests: ${line#RESULT }" >&2
  fi
  echo "$line" | sed 's/.*rps=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\1 \2 \3/'
}
# pgbench_run NAME ARGS... -> "tps p50 p99"
pgbench_run() {
  local name=$1 out tps pct
  shift
  rm -rf "$work/pglog"; mkdir -p "$work/pglog"
  out=$(cd "$work/pglog" && pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M prepared \
    -c "$connections" -j 2 -T "$seconds" -l --log-prefix=tx "$@" postgres 2>&1) ||
    { echo "$out" >&2; fail "pgbench ($name) failed"; }
  echo "$out" > "$work/pgbench-$name.txt"
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
  pct=$(python3 "$qa/orders.py" percentiles "$work"/pglog/tx.*)
  echo "$tps $(echo "$pct" | cut -d' ' -f2-)"
}
# Sluice handles a request on its REST thread start to end; after wrk stops, the requests it
# left in flight still run. Wait until a request is answered at once again.
wait_sluice_idle() {
  for _ in $(seq 1 600); do
    t=$(curl -s -o /dev/null -m 120 -w '%{time_total}' "http://127.0.0.1:$sport/health")
    awk -v t="$t" 'BEGIN{exit !(t < 0.05)}' && return 0
    sleep 0.2
  done
}
ft_scripts() { for f in "$work/pgbench_$1"/full_text_*.sql; do printf -- '-f\n%s\n' "$f"; done; }

surl=http://127.0.0.1:$sport
declare -A s_conns=([point]=$connections [range]=$connections [text_rare]=$connections [text_common]=$connections)
declare -A s_args=([point]=$rows [range]=$big_customers [text_rare]=$work/pairs_rare.lua [text_common]=$work/pairs_common.lua)
declare -A s_script=([point]=$qa/point_lookup.lua [range]=$qa/range.lua [text_rare]=$qa/full_text.lua [text_common]=$qa/full_text.lua)
# One request of each query alone: a query that takes longer than $slow_request_s is measured
# with 2 connections (one per REST thread) rather than 32: with 32, requests would only queue
# behind each other, and those wrk leaves in flight would run on into the next measurement.
declare -A single
single[point]=$(curl -s -o /dev/null -w '%{time_total}' "$surl/orders/1")
single[range]=$(curl -s -o /dev/null -w '%{time_total}' -X POST "$surl/orders/query" \
  -d '{"$filter":{"customer_id":1},"$order_by":{"created_at":"desc"},"$limit":50}')
for kind in rare common; do
  pair=$(head -1 "$work/pairs_$kind.txt" | cut -d' ' -f1-2)
  single[text_$kind]=$(curl -s -o /dev/null -w '%{time_total}' -X POST "$surl/orders/query" \
    -d "{\"\$filter\":{\"description\":{\"\$contains\":\"$pair\"}},\"\$limit\":50}")
done
echo
for q in point range text_rare text_common; do
  if awk -v t="${single[$q]}" -v s="$slow_request_s" 'BEGIN{exit !(t > s)}'; then
    s_conns[$q]=2
    echo "NOTE: one Sluice request of $q alone took ${single[$q]} s: measured with wrk -c2 instead of -c$connections"
  fi
done

# Warm-up: 2 s of every query on both systems (not measured).
for q in point range text_rare text_common; do
  timeout 20 wrk -t2 -c"${s_conns[$q]}" -d2s --timeout 60s -s "${s_script[$q]}" "$surl" -- "${s_args[$q]}" >/dev/null 2>&1 || true
  wait_sluice_idle
done
mapfile -t fts < <(ft_scripts rare)
for f in "-f $qa/point_lookup.sql" "-f $qa/range.sql" "${fts[*]}"; do
  # shellcheck disable=SC2086 # $f is one or more "-f FILE" options (paths without spaces)
  pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M prepared -c "$connections" -j 2 -T 2 \
    -D rows="$rows" -D customers="$big_customers" $f postgres >/dev/null 2>&1
done

declare -A res
labels=(point range text_rare text_common)
for run in $(seq 1 "$runs"); do
  res[nginx,$run]=$(wrk_run "nginx-$run" "http://127.0.0.1:$nginx_port" "$qa/point_lookup.lua" "$connections" "$rows")
  res[nginx_range,$run]=$(wrk_run "nginx-range-$run" "http://127.0.0.1:$nginx_range_port" "$qa/point_lookup.lua" "$connections" "$rows")
  for q in "${labels[@]}"; do
    res[s,$q,$run]=$(wrk_run "sluice-$q-$run" "$surl" "${s_script[$q]}" "${s_conns[$q]}" "${s_args[$q]}")
    wait_sluice_idle
    case $q in
      point) res[p,$q,$run]=$(pgbench_run "$q-$run" -D rows="$rows" -f "$qa/point_lookup.sql") ;;
      range) res[p,$q,$run]=$(pgbench_run "$q-$run" -D customers="$big_customers" -f "$qa/range.sql") ;;
      text_*) mapfile -t fts < <(ft_scripts "${q#text_}")
              res[p,$q,$run]=$(pgbench_run "$q-$run" "${fts[@]}") ;;
    esac
    echo "run $run: $q: sluice ${res[s,$q,$run]} | postgresql ${res[p,$q,$run]}  (req/s p50_ms p99_ms)"
  done
  echo "run $run: nginx ${res[nginx,$run]}; nginx (range-sized file) ${res[nginx_range,$run]}"
done

# --- table -----------------------------------------------------------------------------------
col() { echo "$1" | cut -d' ' -f"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf (a/b < 0.1 ? "%.2g" : "%.2f"), a/b}'; }
fmt_rate() {  # 12345.6 -> 12,346; below 100 one decimal
  awk -v r="$1" 'BEGIN{printf (r < 100 ? "%.1f" : "%.0f"), r}' | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}
declare -A name=(
  [point]="point lookup: GET /orders/{id}"
  [range]="range: customer_id = ? ORDER BY created_at DESC LIMIT 50"
  [text_rare]="full text, 2 words (one in < $planner_cap rows), LIMIT 50"
  [text_common]="full text, 2 words (both in >= $planner_cap rows), LIMIT 50")
echo
echo "| query | Sluice req/s | p50 ms | p99 ms | PostgreSQL req/s | p50 ms | p99 ms | Sluice / PostgreSQL |"
echo "|---|---|---|---|---|---|---|---|"
for q in "${labels[@]}"; do
  sr=(); s50=(); s99=(); pr=(); p50=(); p99=(); rr=()
  for run in $(seq 1 "$runs"); do
    s=${res[s,$q,$run]}; p=${res[p,$q,$run]}
    sr+=("$(col "$s" 1)"); s50+=("$(col "$s" 2)"); s99+=("$(col "$s" 3)")
    pr+=("$(col "$p" 1)"); p50+=("$(col "$p" 2)"); p99+=("$(col "$p" 3)")
    rr+=("$(ratio "$(col "$s" 1)" "$(col "$p" 1)")")
  done
  conns=""; [ "${s_conns[$q]}" != "$connections" ] && conns=" (Sluice: -c${s_conns[$q]})"
  echo "| ${name[$q]}$conns | $(fmt_rate "$(median "${sr[@]}")") | $(median "${s50[@]}") | $(median "${s99[@]}") |" \
    "$(fmt_rate "$(median "${pr[@]}")") | $(median "${p50[@]}") | $(median "${p99[@]}") | **$(median "${rr[@]}")** |"
done
# ceiling_row KEY QUERY LABEL: nginx's medians and Sluice's QUERY as a share of them, per run.
ceiling_row() {
  local nr=() n50=() n99=() nrat=() n run
  for run in $(seq 1 "$runs"); do
    n=${res[$1,$run]}
    nr+=("$(col "$n" 1)"); n50+=("$(col "$n" 2)"); n99+=("$(col "$n" 3)")
    nrat+=("$(ratio "$(col "${res[s,$2,$run]}" 1)" "$(col "$n" 1)")")
  done
  echo "| $3 | $(fmt_rate "$(median "${nr[@]}")") | $(median "${n50[@]}") | $(median "${n99[@]}") | $2 | **$(median "${nrat[@]}")** |"
}
echo
echo "| HTTP ceiling | req/s | p50 ms | p99 ms | Sluice query | Sluice / nginx |"
echo "|---|---|---|---|---|---|"
ceiling_row nginx point "nginx, static $body_size-byte file (a point lookup's size)"
ceiling_row nginx_range range "nginx, static $range_body_size-byte file (a range answer's size)"
# What the range target asks of this machine: 5x PostgreSQL as a share of the range ceiling.
needed=()
for run in $(seq 1 "$runs"); do
  needed+=("$(ratio "$(awk -v p="$(col "${res[p,range,$run]}" 1)" 'BEGIN{print 5 * p}')" "$(col "${res[nginx_range,$run]}" 1)")")
done
echo
echo "range target (5x PostgreSQL) as a share of nginx serving the same bytes statically: $(median "${needed[@]}")"
echo
echo "medians of $runs runs (ratios computed per run); wrk -t2 -c$connections -d${seconds}s --latency," \
  "pgbench -M prepared -c$connections -j2 -T$seconds (p50/p99 from --log). Targets: point lookup >= 0.8x nginx," \
  "range >= 5x PostgreSQL."
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares its cores)"

problems=$(grep -hE " (warning|error|critical) \[" "$work/sluice.log" || true)
if [ -n "$problems" ]; then
  echo
  echo "sluice logged problems:"
  echo "$problems" | head -20
fi
