#!/usr/bin/env bash
# Serving benchmark: wrk with keep-alive on GET /people/{id} over random keys, and in the same
# run nginx serving a static JSON file of the same size. Reports req/s, p99 and the ratio.
# Usage: bench/serving.sh BUILD_DIR [RUNS] [SECONDS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=${1:-build}
runs=${2:-3}
seconds=${3:-10}
sluice=$(cd "$build" && pwd)/sluice
work=$(mktemp -d)
people=100000
cleanup() {
  [ -n "${sluice_pid:-}" ] && kill -TERM "$sluice_pid" 2>/dev/null && wait "$sluice_pid" 2>/dev/null
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/sluice.yaml" <<YAML
home_dir: $work/home
connections:
  - {name: gen, kind: generator, events: $(( people * 50 )), seed: 1}
sources:
  - {name: person, connection: gen}
endpoints:
  - {name: people, path: /people, table: person}
api:
  host: 127.0.0.1
  rest: {port: 0}
YAML
"$sluice" run -c "$work/sluice.yaml" --port-file "$work/port" >"$work/sluice.log" 2>&1 &
sluice_pid=$!
wait_for_port_file "$work/port" 20
sport=$(cat "$work/port")
for _ in $(seq 1 600); do grep -q "all sources are done" "$work/sluice.log" && break; sleep 0.1; done

# nginx serves one record of the same size as a static file.
mkdir -p "$work/www"
curl -s "http://127.0.0.1:$sport/people/1500" > "$work/www/person.json"
size=$(stat -c %s "$work/www/person.json")
nport=$(free_port)
cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  types { application/json json; }
  server {
    listen 127.0.0.1:$nport;
    root $work/www;
    location / { try_files /person.json =404; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"

cat > "$work/random_id.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/people/" .. math.random(1000, $((1000 + people - 1))))
end
LUA

parse() {  # wrk output -> "req/s p99_ms"
  awk '/Requests\/sec/{r=$2} /^ +99%/{p=$2} END{print r, p}' | awk '{
    p=$2; v=p+0; if (p ~ /us$/) v=v/1000; else if (p ~ /ms$/) v=v; else if (p ~ /s$/) v=v*1000;
    printf "%s %.2f\n", $1, v }'
}

s_rates=(); n_rates=(); ratios=()
for run in $(seq 1 "$runs"); do
  s=$(wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/random_id.lua" "http://127.0.0.1:$sport" | parse)
  n=$(wrk -t2 -c64 -d"${seconds}s" --latency "http://127.0.0.1:$nport/people/1" | parse)
  read -r srps sp99 <<<"$s"; read -r nrps np99 <<<"$n"
  ratio=$(awk -v a="$srps" -v b="$nrps" 'BEGIN{printf "%.2f", a/b}')
  echo "run $run: sluice $srps req/s p99 ${sp99} ms | nginx $nrps req/s p99 ${np99} ms | ratio $ratio"
  s_rates+=("$srps"); n_rates+=("$nrps"); ratios+=("$ratio")
done
echo "serving median ($size-byte records, wrk -t2 -c64 ${seconds}s, $(machine_line)):"
echo "  sluice $(median "${s_rates[@]}") req/s, nginx $(median "${n_rates[@]}") req/s, ratio $(median "${ratios[@]}")"
