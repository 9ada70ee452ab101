-- POST /orders/query: orders whose description contains both words of a random pair from a
-- generated list, LIMIT 50.  wrk ... -s full_text.lua URL -- PAIRS_LUA_FILE
-- (the file sets word_pairs = {"word1 word2", ...}; see orders.py generate)
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require "report"

local headers = {["Content-Type"] = "application/json"}

function init(args)
  seed_random()
  dofile(args[1])
end

function request()
  local body = string.format('{"$filter":{"description":{"$contains":"%s"}},"$limit":50}',
                             word_pairs[math.random(1, #word_pairs)])
  return wrk.format("POST", "/orders/query", headers, body)
end
