#!/usr/bin/env bash
# Authorization overhead: point lookups (GET /people/{id}, random keys, wrk -t2 -c64) against
# one sluice without api.auth and one with it (HS256 secret), in the same run, alternating:
#   - no auth;
#   - auth, one token reused by every request (a client keeping its token: the verified-token
#     cache answers after the first request);
#   - auth, a different token per request drawn from 100,000 (the cache, 10,000 entries, mostly
#     misses: every such request verifies its signature with libjwt and parses its claims).
# Tokens are made with PyJWT (/usr/bin/python3, Debian's python3-jwt). Target (issue 6): at
# most 10% slower with auth.
# Usage: bench/auth.sh BUILD_DIR [RUNS] [SECONDS]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=${1:-build}
runs=${2:-3}
seconds=${3:-10}
work=$(mktemp -d /tmp/sluice_auth_XXXXXX)
cp "$(cd "$build" && pwd)/sluice" "$work/sluice"
people=100000
secret=$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 48)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

start() {  # name, extra api yaml
  mkdir -p "$work/$1"
  cat > "$work/$1/sluice.yaml" <<YAML
home_dir: $work/$1/home
connections:
  - {name: gen, kind: generator, events: $(( people * 50 )), seed: 1}
sources:
  - {name: person, connection: gen}
endpoints:
  - {name: people, path: /people, table: person}
api:
  host: 127.0.0.1
  rest: {port: 0}
$2
YAML
  "$work/sluice" run -c "$work/$1/sluice.yaml" --port-file "$work/$1/port" >"$work/$1/log" 2>&1 &
  pids+=($!)
  wait_for_port_file "$work/$1/port" 20
  for _ in $(seq 1 600); do grep -q "all sources are done" "$work/$1/log" && break; sleep 0.1; done
}
start plain ""
start auth "  auth: {jwt_secret: \"$secret\"}"
plain_port=$(cat "$work/plain/port"); auth_port=$(cat "$work/auth/port")

/usr/bin/python3 - "$secret" "$work/tokens.txt" <<'PY'
import sys, time, jwt
secret, out = sys.argv[1], sys.argv[2]
now = int(time.time())
with open(out, "w") as f:
    for i in range(100000):
        f.write(jwt.encode({"sub": "u%d" % i, "iat": now, "exp": now + 3600, "access": "all"},
                           secret, algorithm="HS256") + "\n")
PY
head -1 "$work/tokens.txt" > "$work/one_token.txt"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$work/one_token.txt")" \
  "http://127.0.0.1:$auth_port/people/1500")
[ "$status" = 200 ] || { echo "auth sluice refused a good token ($status)" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$auth_port/people/1500")
[ "$status" = 401 ] || { echo "auth sluice answered without a token ($status)" >&2; exit 1; }

cat > "$work/lookup.lua" <<LUA
local tokens = {}
local file = os.getenv("TOKENS")
if file and file ~= "" then for line in io.lines(file) do tokens[#tokens + 1] = line end end
function setup(thread) thread:set("seed", math.random(1, 1000000)) end
function init(args) math.randomseed(seed) end
request = function()
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)] end
  return wrk.format("GET", "/people/" .. math.random(1000, $((1000 + people - 1))), headers)
end
LUA
measure() {  # port, tokens file or "" -> req/s
  TOKENS="$2" wrk -t2 -c64 -d"${seconds}s" -s "$work/lookup.lua" "http://127.0.0.1:$1" |
    awk '/Requests\/sec/{print $2}'
}

plain=(); one=(); many=(); r_one=(); r_many=()
for run in $(seq 1 "$runs"); do
  p=$(measure "$plain_port" "")
  o=$(measure "$auth_port" "$work/one_token.txt")
  m=$(measure "$auth_port" "$work/tokens.txt")
  ro=$(awk -v a="$o" -v b="$p" 'BEGIN{printf "%.3f", a/b}')
  rm=$(awk -v a="$m" -v b="$p" 'BEGIN{printf "%.3f", a/b}')
  echo "run $run: no auth $p req/s | auth, one token $o ($ro) | auth, 100k tokens $m ($rm)"
  plain+=("$p"); one+=("$o"); many+=("$m"); r_one+=("$ro"); r_many+=("$rm")
done
echo "auth overhead, medians of $runs (wrk -t2 -c64 ${seconds}s, $(machine_line)):"
echo "  no auth $(median "${plain[@]}") req/s; auth with one token $(median "${one[@]}") req/s" \
     "(ratio $(median "${r_one[@]}")); auth with 100k tokens $(median "${many[@]}") req/s" \
     "(ratio $(median "${r_many[@]}"))"
