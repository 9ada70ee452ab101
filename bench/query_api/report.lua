-- Shared by the query_api wrk scripts (loaded with require): each wrk thread draws its own
-- random sequence, and done() prints one parseable line:
--   RESULT rps=<req/s> p50_ms=<ms> p99_ms=<ms> requests=<n> non2xx=<n> socket_errors=<n>
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function seed_random()
  math.randomseed(7919 * (thread_number or 0) + 1)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
