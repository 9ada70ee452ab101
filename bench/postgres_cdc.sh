#!/usr/bin/env bash
# PostgreSQL CDC through the real `sluice run` (`kind: postgres`), against a throwaway
# PostgreSQL 15 started here (wal_level=logical, fsync off, synchronous_commit off, 1 GB shared
# buffers) on the same machine. Per run:
#   1. snapshot: a pgbench-like accounts table of SNAPSHOT_ROWS rows; time from starting sluice
#      (fresh home) until POST /accounts/count answers SNAPSHOT_ROWS (polled every 50 ms);
#   2. freshness: about 10 thousand row changes per second for 10 s (transactions of 200 random
#      rows every 20 ms, each also setting a probe row); time from COMMIT returning in the client
#      until GET /accounts/1 shows the probe's value -> p50/p99;
#   3. streaming: STREAM_CHANGES row changes applied while no reader runs (sluice stopped, its
#      slot and pg_recvlogical's slot both retaining the WAL), then each reader alone drains the
#      same WAL range: pg_recvlogical (pgoutput, proto 1, output to /dev/null, --endpos) and
#      sluice restarted on its home until the load's final marker row shows through REST.
# Usage: bench/postgres_cdc.sh BUILD_DIR [SNAPSHOT_ROWS] [STREAM_CHANGES] [RUNS] [LOG_FSYNC]
# LOG_FSYNC (optional): run Sluice with a change log, `log: {fsync: LOG_FSYNC}` (every_epoch,
# off or an interval like 100ms; docs/config.md); without it, no log.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
snapshot_rows=${2:-10000000}
stream_changes=${3:-2000000}
runs=${4:-3}
log_fsync=${5:-}
sluice=$build/sluice
chunk=10000             # rows per UPDATE statement (= per transaction) in the streaming load
fresh_rate=10000        # row changes per second during the freshness phase
fresh_tick_ms=20        # one transaction (and one probe) every this many ms
fresh_seconds=10
probe_aid=1             # the freshness probe row; its batches use the other rows
pgbin=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/sluice_pgcdc_XXXXXX)
chmod 755 "$work"
as_pg=""
[ "$(id -u)" -eq 0 ] && as_pg="runuser -u postgres --"
sluice_pid=""
cleanup() {
  if [ -n "$sluice_pid" ] && kill -0 "$sluice_pid" 2>/dev/null; then
    kill -TERM "$sluice_pid" 2>/dev/null; wait "$sluice_pid" 2>/dev/null || true
  fi
  [ -d "$work/pg" ] && $as_pg $pgbin/pg_ctl -D "$work/pg" -m immediate stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$snapshot_rows" -lt 1000 ]; then
  echo "postgres_cdc: SNAPSHOT_ROWS must be at least 1000" >&2
  exit 1
fi

# --- helper: REST pollers and the freshness driver (Python standard library only) ----------
cat > "$work/cdc_probe.py" <<'PY'
import http.client, json, os, random, subprocess, sys, threading, time

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False

class Rest:
    """One keep-alive HTTP connection, reopened after any error."""
    def __init__(self, port):
        self.port, self.conn = int(port), None
    def call(self, method, path, body=None):
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=body,
                                  headers={"Content-Type": "application/json"} if body else {})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return None, b""

def wait_until(pid, timeout, interval, check):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            print(f"{time.time():.6f}")
            return 0
        if not alive(pid):
            print("sluice exited", file=sys.stderr)
            return 2
        time.sleep(interval)
    print("timed out", file=sys.stderr)
    return 1

def cmd_count(rest_port, want, interval, timeout, pid):
    rest, last = Rest(rest_port), [None]
    def check():
        status, data = rest.call("POST", "/accounts/count", b"{}")
        if status == 200:
            last[0] = json.loads(data)["count"]
            if last[0] > int(want):
                print(f"count {last[0]} exceeds {want}", file=sys.stderr)
            return last[0] == int(want)
        return False
    rc = wait_until(int(pid), float(timeout), float(interval), check)
    if rc:
        print(f"last count: {last[0]}", file=sys.stderr)
    return rc

def cmd_marker(rest_port, aid, value, interval, timeout, pid):
    rest, last = Rest(rest_port), [None]
    def check():
        status, data = rest.call("GET", f"/accounts/{aid}")
        if status == 200:
            last[0] = json.loads(data)["abalance"]
            return last[0] == int(value)
        return False
    rc = wait_until(int(pid), float(timeout), float(interval), check)
    if rc:
        print(f"last abalance of {aid}: {last[0]}", file=sys.stderr)
    return rc

def percentile(sorted_values, p):  # nearest rank
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]

def cmd_fresh(pg_port, rest_port, rows, rate, tick_ms, seconds, probe_aid):
    rows, rate, tick, seconds, probe_aid = int(rows), int(rate), int(tick_ms) / 1000, float(seconds), int(probe_aid)
    per_tick = max(1, round(rate * tick))
    ticks = int(seconds / tick)
    psql = subprocess.Popen(
        ["psql", "-h", "127.0.0.1", "-p", pg_port, "-U", "postgres", "-d", "postgres",
         "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    def send(sql, tag):
        psql.stdin.write(sql + f"\n\\echo {tag}\n")
        psql.stdin.flush()
        while True:
            line = psql.stdout.readline()
            if not line:
                raise SystemExit("psql exited")
            if line.strip() == tag:
                return time.time()
    # A synchronous commit: with synchronous_commit=off COMMIT returns before its WAL is
    # flushed, and the walsender only sends flushed WAL (the WAL writer flushes every 200 ms).
    send("SET synchronous_commit = on; SELECT 1;", "ready")
    rest = Rest(rest_port)
    status, data = rest.call("GET", f"/accounts/{probe_aid}")
    start_value = json.loads(data)["abalance"] if status == 200 else 0
    base = min(start_value, 0) - 1           # probe k writes base - k, distinct and decreasing
    committed, visible = {}, {}
    done = threading.Event()
    def poll():
        seen = 0
        while not done.is_set() or seen < len(committed):
            status, data = rest.call("GET", f"/accounts/{probe_aid}")
            now = time.time()
            if status == 200:
                k = base - json.loads(data)["abalance"]
                if seen < k <= ticks:
                    for s in range(seen + 1, k + 1):
                        visible[s] = now
                    seen = k
            if done.is_set() and time.time() > done_at[0] + 10:
                break
            time.sleep(0.001)
    done_at = [0.0]
    poller = threading.Thread(target=poll)
    poller.start()
    t0 = time.time()
    for k in range(1, ticks + 1):
        target = t0 + (k - 1) * tick
        pause = target - time.time()
        if pause > 0:
            time.sleep(pause)
        ids = set()
        while len(ids) < min(per_tick, rows - 1):
            a = random.randint(1, rows)
            if a != probe_aid:
                ids.add(a)
        id_list = ",".join(map(str, ids))
        committed[k] = send(
            f"BEGIN; UPDATE accounts SET abalance = abalance + 1 WHERE aid IN ({id_list}); "
            f"UPDATE accounts SET abalance = {base - k} WHERE aid = {probe_aid}; COMMIT;", f"c{k}")
    t1 = time.time()
    done_at[0] = t1
    done.set()
    poller.join()
    psql.stdin.close()
    psql.wait()
    lat = sorted(max(0.0, visible[k] - committed[k]) * 1000 for k in committed if k in visible)
    missing = len(committed) - len(lat)
    changes = ticks * (min(per_tick, rows - 1) + 1)
    if not lat:
        print("fresh probes=0 missing=%d" % missing)
        return 1
    print("fresh probes=%d missing=%d p50=%.1f p99=%.1f max=%.1f changes=%d seconds=%.2f rate=%.0f"
          % (len(lat), missing, percentile(lat, 50), percentile(lat, 99), lat[-1], changes,
             t1 - t0, changes / (t1 - t0)))
    return 0 if missing == 0 else 1

def cmd_check(pg_port, rest_port, rows, samples):
    """POST /accounts/count and abalance of random rows, against PostgreSQL."""
    rest, rows = Rest(rest_port), int(rows)
    ids = sorted(random.sample(range(1, rows + 1), min(int(samples), rows)))
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", pg_port, "-U", "postgres", "-d", "postgres", "-X", "-q",
         "-A", "-t", "-F", " ", "-c",
         f"SELECT aid, abalance FROM accounts WHERE aid IN ({','.join(map(str, ids))})"],
        check=True, capture_output=True, text=True).stdout
    want = {int(a): int(b) for a, b in (line.split() for line in out.splitlines() if line)}
    bad = []
    status, data = rest.call("POST", "/accounts/count", b"{}")
    count = json.loads(data)["count"] if status == 200 else None
    if count != rows:
        bad.append(f"count {count}, PostgreSQL has {rows}")
    for aid in ids:
        status, data = rest.call("GET", f"/accounts/{aid}")
        got = json.loads(data)["abalance"] if status == 200 else f"HTTP {status}"
        if got != want[aid]:
            bad.append(f"aid {aid}: abalance {got}, PostgreSQL has {want[aid]}")
    print("; ".join(bad[:10]) if bad else f"ok ({len(ids)} random rows and the count match PostgreSQL)")
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit({"count": cmd_count, "marker": cmd_marker, "fresh": cmd_fresh, "check": cmd_check}[sys.argv[1]](*sys.argv[2:]))
PY

now() { date +%s.%N; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
rate_of() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.0f", n/s}'; }
log_time() {  # epoch seconds of a sluice log line's timestamp (local time, ms)
  date -d "$(echo "$1" | awk '{print $1}' | tr T ' ')" +%s.%N
}

# --- PostgreSQL --------------------------------------------------------------------------------
[ -n "$as_pg" ] && chown postgres "$work"
port=$(free_port)
$as_pg $pgbin/initdb -D "$work/pg" -U postgres --auth=trust --locale=C -E UTF8 --no-sync >/dev/null
$as_pg $pgbin/pg_ctl -D "$work/pg" -l "$work/pg.log" -w -o "-p $port -k $work \
  -c listen_addresses=127.0.0.1 -c wal_level=logical -c fsync=off -c synchronous_commit=off \
  -c max_wal_senders=10 -c max_replication_slots=10 -c shared_buffers=1GB" start >/dev/null
psql_run() { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
recvlogical() { $pgbin/pg_recvlogical -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

start=$(now)
psql_run -c "CREATE TABLE accounts (aid int, bid int, abalance int, filler char(84));
INSERT INTO accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, $snapshot_rows) g;
ALTER TABLE accounts ADD PRIMARY KEY (aid);
CREATE PUBLICATION bench_pub FOR TABLE accounts;"
psql_run -c "VACUUM (FREEZE, ANALYZE) accounts" -c "CHECKPOINT"
table_size=$(psql_run -c "SELECT pg_size_pretty(pg_table_size('accounts'))")
setup_secs=$(secs_between "$start" "$(now)")

# The streaming load: UPDATE statements of $chunk consecutive rows (one transaction each),
# walking the table and wrapping around; then a marker transaction, committed synchronously.
awk -v total="$stream_changes" -v chunk="$chunk" -v rows="$snapshot_rows" 'BEGIN {
  done = 0; next_aid = 1
  while (done < total) {
    n = total - done; if (n > chunk) n = chunk
    if (next_aid + n - 1 > rows) n = rows - next_aid + 1
    printf "UPDATE accounts SET abalance = abalance + 1 WHERE aid BETWEEN %d AND %d;\n", next_aid, next_aid + n - 1
    done += n; next_aid += n; if (next_aid > rows) next_aid = 1
  }
}' > "$work/load.sql"

cat > "$work/sluice.yaml" <<YAML
home_dir: $work/home
connections:
  - {name: pg, kind: postgres, url: "postgres://postgres@127.0.0.1:$port/postgres"}
sources:
  - {name: accounts, connection: pg, table: public.accounts}
endpoints:
  - {name: accounts, path: /accounts, table: accounts}
api: {host: 127.0.0.1, rest: {port: 0}}
YAML
if [ -n "$log_fsync" ]; then echo "log: {fsync: $log_fsync}" >> "$work/sluice.yaml"; fi

start_sluice() {  # log file
  rm -f "$work/port"
  "$sluice" run -c "$work/sluice.yaml" --port-file "$work/port" >>"$1" 2>&1 &
  sluice_pid=$!
  wait_for_port_file "$work/port" 600
  rest_port=$(cat "$work/port")
}
stop_sluice() {  # log file
  kill -TERM "$sluice_pid"
  local rc=0
  wait "$sluice_pid" || rc=$?
  sluice_pid=""
  if [ "$rc" -ne 0 ]; then echo "sluice exited with status $rc" | tee -a "$1" >&2; fi
}
fail() {  # message, log file
  echo "postgres_cdc: $1; the end of sluice's log:" >&2
  tail -20 "$2" >&2
  exit 1
}

echo "PostgreSQL CDC benchmark, $(date -u +%Y-%m-%d)"
echo "machine: $(machine_line); $(psql_run -c 'SELECT version()' | cut -d, -f1); $("$sluice" version)"
echo "command: bench/postgres_cdc.sh ${1:-build} $snapshot_rows $stream_changes $runs${log_fsync:+ $log_fsync}"
echo "table: accounts(aid int primary key, bid int, abalance int, filler char(84)), $snapshot_rows rows, $table_size; created in $setup_secs s (not timed below)"
echo "streaming load: $stream_changes row changes as UPDATE accounts SET abalance = abalance + 1 WHERE aid BETWEEN x AND x+$((chunk - 1)) (one transaction per $chunk rows) + 1 marker row"
echo

runs_table=(); snap_rates=(); snap_secs=(); recv_rates=(); sl_rates=(); ratios=(); p50s=(); p99s=()
for run in $(seq 1 "$runs"); do
  log="$work/sluice-$run.log"
  rm -rf "$work/home"

  # 1. Snapshot.
  t0=$(now)
  start_sluice "$log"
  t1=$(python3 "$work/cdc_probe.py" count "$rest_port" "$snapshot_rows" 0.05 3600 "$sluice_pid") ||
    fail "run $run: the snapshot did not reach $snapshot_rows rows" "$log"
  snap=$(secs_between "$t0" "$t1")
  snap_rate=$(rate_of "$snapshot_rows" "$snap")
  own=$(grep -o "snapshot public.accounts: [0-9]* rows in [0-9.]* s ([0-9]* rows/s)" "$log" | tail -1 || true)
  for _ in $(seq 1 600); do grep -q "streaming changes from" "$log" && break; sleep 0.05; done

  # 2. Freshness, sluice caught up.
  fresh=$(python3 "$work/cdc_probe.py" fresh "$port" "$rest_port" "$snapshot_rows" "$fresh_rate" \
    "$fresh_tick_ms" "$fresh_seconds" "$probe_aid") || fail "run $run: freshness probes lost ($fresh)" "$log"
  p50=$(echo "$fresh" | sed -n 's/.* p50=\([0-9.]*\).*/\1/p')
  p99=$(echo "$fresh" | sed -n 's/.* p99=\([0-9.]*\).*/\1/p')

  # 3. Streaming: pg_recvlogical's slot is created while sluice is caught up, then sluice stops
  # and the load runs with no reader connected; both slots retain its WAL.
  recvlogical --create-slot -S bench_slot -P pgoutput 2>>"$work/recvlogical.log"
  stop_sluice "$log"
  begin_lsn=$(psql_run -c "SELECT pg_current_wal_lsn()")
  marker=$(( -1000000000 - run ))
  t0=$(now)
  psql_run -f "$work/load.sql"
  psql_run -c "BEGIN; SET LOCAL synchronous_commit = on; UPDATE accounts SET abalance = $marker WHERE aid = $probe_aid; COMMIT;"
  load=$(secs_between "$t0" "$(now)")
  end_lsn=$(psql_run -c "SELECT pg_current_wal_lsn()")
  wal_mb=$(psql_run -c "SELECT round(pg_wal_lsn_diff('$end_lsn', '$begin_lsn') / 1048576)")

  drain_recvlogical() {
    local t0 t1
    t0=$(now)
    recvlogical -S bench_slot --start -f /dev/null --no-loop -o proto_version=1 \
      -o publication_names=bench_pub --endpos "$end_lsn" 2>>"$work/recvlogical.log"
    t1=$(now)
    recv=$(secs_between "$t0" "$t1")
  }
  drain_sluice() {
    local t0 t1 line
    local lines_before
    lines_before=$(grep -c "streaming changes from" "$log" || true)
    t0=$(now)
    start_sluice "$log"
    t1=$(python3 "$work/cdc_probe.py" marker "$rest_port" "$probe_aid" "$marker" 0.01 3600 "$sluice_pid") ||
      fail "run $run: the load's marker never showed" "$log"
    line=$(grep "streaming changes from" "$log" | sed -n "$((lines_before + 1))p")
    [ -n "$line" ] || fail "run $run: no 'streaming changes from' line after the restart" "$log"
    streaming_at=$(log_time "$line")
    sl=$(secs_between "$streaming_at" "$t1")
    sl_total=$(secs_between "$t0" "$t1")
  }
  # Alternate which reader goes first, so neither always finds the WAL colder.
  if [ $((run % 2)) -eq 1 ]; then drain_recvlogical; drain_sluice; order="pg_recvlogical first"
  else drain_sluice; drain_recvlogical; order="sluice first"; fi
  recv_done=$(psql_run -c "SELECT confirmed_flush_lsn >= '$end_lsn' FROM pg_replication_slots WHERE slot_name = 'bench_slot'")
  [ "$recv_done" = t ] || echo "run $run: pg_recvlogical stopped before $end_lsn" >&2
  recvlogical --drop-slot -S bench_slot 2>>"$work/recvlogical.log"
  check=$(python3 "$work/cdc_probe.py" check "$port" "$rest_port" "$snapshot_rows" 100) || true
  recv_rate=$(rate_of "$stream_changes" "$recv")
  sl_rate=$(rate_of "$stream_changes" "$sl")
  ratio=$(awk -v a="$sl_rate" -v b="$recv_rate" 'BEGIN{printf "%.2f", a/b}')

  stop_sluice "$log"
  "$sluice" clean -c "$work/sluice.yaml" >>"$log" 2>&1 || echo "run $run: sluice clean failed" >&2
  rm -rf "$work/home"
  psql_run -c "VACUUM accounts" -c "CHECKPOINT"  # the next snapshot reads a table without dead rows

  echo "run $run: snapshot $snapshot_rows rows in $snap s = $snap_rate rows/s (sluice's line: ${own:-none})"
  echo "run $run: freshness ${fresh#fresh }"
  echo "run $run: streaming load $load s ($(rate_of "$stream_changes" "$load") changes/s, $wal_mb MiB of WAL, $begin_lsn..$end_lsn); $order"
  echo "run $run: pg_recvlogical $recv s = $recv_rate rows/s; sluice $sl s from its 'streaming changes from' line ($sl_total s from process start) = $sl_rate rows/s; ratio $ratio"
  echo "run $run: after the streaming drain, sluice vs PostgreSQL: $check"
  snap_rates+=("$snap_rate"); snap_secs+=("$snap"); recv_rates+=("$recv_rate"); sl_rates+=("$sl_rate")
  ratios+=("$ratio"); p50s+=("$p50"); p99s+=("$p99")
  runs_table+=("| $run | $snap | $snap_rate | $recv_rate | $sl_rate | $ratio | $p50 | $p99 |")
done

echo
echo "| run | snapshot s | snapshot rows/s | pg_recvlogical rows/s | sluice rows/s | ratio | freshness p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${runs_table[@]}"
echo "| **median** | $(median "${snap_secs[@]}") | **$(median "${snap_rates[@]}")** | $(median "${recv_rates[@]}") | $(median "${sl_rates[@]}") | **$(median "${ratios[@]}")** | $(median "${p50s[@]}") | **$(median "${p99s[@]}")** |"
echo
echo "targets (2 cores, PostgreSQL and Sluice together): snapshot >= 300000 rows/s: $(median "${snap_rates[@]}");" \
  "streaming >= 0.8x pg_recvlogical: $(median "${ratios[@]}")x; freshness p99 <= 50 ms: $(median "${p99s[@]}") ms"
echo
echo "method: snapshot = sluice start (fresh home) until POST /accounts/count = $snapshot_rows, polled every 50 ms." \
  "Freshness = $fresh_rate row changes/s for $fresh_seconds s as one transaction of $((fresh_rate * fresh_tick_ms / 1000)) random rows every $fresh_tick_ms ms" \
  "through a long-lived psql (synchronous_commit on in that session), the transaction also setting probe row aid=$probe_aid;" \
  "latency = COMMIT returned (psql's \\echo after it read) until GET /accounts/$probe_aid shows the value (polled every ~1 ms)." \
  "Streaming = the load is applied while no reader runs (sluice stopped; its slot and pg_recvlogical's slot, created before the load, retain the WAL)," \
  "then each reader alone drains the same WAL range: pg_recvlogical -P pgoutput -o proto_version=1 to /dev/null until --endpos (process start to exit);" \
  "sluice restarted on its home, from its 'streaming changes from' log line until GET /accounts/$probe_aid shows the load's final marker (polled every 10 ms); rows/s = $stream_changes / time."

problems=$(grep -hE " (warning|error|critical) \[|exited with status" "$work"/sluice-*.log || true)
if [ -n "$problems" ]; then
  echo
  echo "sluice logged problems:"
  echo "$problems" | head -40
fi
