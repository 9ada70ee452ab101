# Shared helpers for the benchmark scripts (sourced, not run).
set -euo pipefail

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

median() {  # median of the numbers given as arguments
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

wait_for_port_file() {  # file, timeout seconds
  for _ in $(seq 1 $(( $2 * 20 ))); do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  return 1
}

machine_line() {
  echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name:[ ]*//p' | head -1)"
}

# Runs `sluice run` on a config until every source is done, then stops it; prints
# "rows seconds" of the load as sluice logged it.
load_to_end() {  # sluice binary, config, log file, port file
  rm -f "$4"
  "$1" run -c "$2" --port-file "$4" >"$3" 2>&1 &
  local pid=$!
  for _ in $(seq 1 3000); do
    grep -q "all sources are done" "$3" && break
    sleep 0.1
  done
  kill -TERM $pid; wait $pid || true
  grep -o "loaded [0-9]* rows in [0-9.]* s" "$3" | head -1 | awk '{print $2, $5}'
}

# Starts `sluice run` on a config, prints the seconds until GET <path> answers, stops it.
seconds_to_first_answer() {  # sluice binary, config, log file, port file, path
  rm -f "$4"
  local start pid port
  start=$(date +%s.%N)
  "$1" run -c "$2" --port-file "$4" >"$3" 2>&1 &
  pid=$!
  wait_for_port_file "$4" 600
  port=$(cat "$4")
  until curl -sf "http://127.0.0.1:$port$5" >/dev/null; do sleep 0.02; done
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}'
  kill -TERM $pid; wait $pid || true
}
