// Parses the query language (docs/rest.md) from JSON into a QuerySpec against an endpoint's
// schema. Every error is an InvalidArgument whose message starts with the JSON path of the
// offending part, e.g. "$filter.total.$gte: expected a number".
#pragma once

#include <cstdint>
#include <string_view>

#include "cache/query_spec.h"
#include "common/status.h"
#include "types/schema.h"

namespace sluice {

struct QueryLimits {
  uint64_t default_limit = 50;
  uint64_t max_limit = 10000;
};

enum class QueryBodyKind { kQuery, kCount, kExplain };

// The body of POST {path}/query, /explain ($filter, $order_by, $limit, $skip, $after) or
// /count ($filter only). An empty body is an empty query.
Result<QuerySpec> ParseQueryJson(const Schema& schema, std::string_view json, QueryBodyKind kind,
                                 const QueryLimits& limits = {});

// A filter object alone (the `filter` query parameter, live subscriptions, JWT row filters);
// `path` prefixes error messages.
Result<FilterNode> ParseFilterJson(const Schema& schema, std::string_view json,
                                   std::string_view path = "$filter");

// An order given as a JSON object ({"created_at": "desc", "id": "asc"}) or as text
// ("created_at:desc,id").
Result<std::vector<OrderTerm>> ParseOrderBy(const Schema& schema, std::string_view text,
                                            std::string_view path = "$order_by");

}  // namespace sluice
