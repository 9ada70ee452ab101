-- POST /orders/query: the 50 latest orders of a random customer in 1..CUSTOMERS (customers
-- with at least 50 orders).  wrk ... -s range.lua URL -- CUSTOMERS
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require "report"

local headers = {["Content-Type"] = "application/json"}

function init(args)
  seed_random()
  customers = tonumber(args[1])
end

function request()
  local body = string.format(
    '{"$filter":{"customer_id":%d},"$order_by":{"created_at":"desc"},"$limit":50}',
    math.random(1, customers))
  return wrk.format("POST", "/orders/query", headers, body)
end
