-- GET /orders/{id} for a random id in 1..ROWS.  wrk ... -s point_lookup.lua URL -- ROWS
-- Also drives nginx (every /orders/{id} is the same static file there), so both servers see
-- the same client work per request.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require "report"

function init(args)
  seed_random()
  rows = tonumber(args[1])
end

function request()
  return wrk.format("GET", "/orders/" .. math.random(1, rows))
end
