// The query layer every reader (REST today; gRPC, live and pgwire later) shares over the
// cache: a filter, paging, and the choice between a primary-key lookup and a scan.
// Results are stored rows (row codec bytes, see types/row_json.h to print them) handed to a
// visitor in key order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "common/status.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice {

// Equality on columns, ANDed. A NULL value never matches (SQL semantics).
struct EqualityFilter {
  std::vector<std::pair<size_t, Value>> terms;  // column index, value
};

struct Query {
  EqualityFilter filter;
  uint64_t skip = 0;
  uint64_t limit = UINT64_MAX;
};

// Serves `query` against `table` of `view`; `visit` receives each matching stored row
// (multiset copies repeated), valid until the view ends, and may stop early by returning false.
Status RunQuery(const ReadView& view, uint32_t table, const Schema& schema, const Query& query,
                const std::function<bool(std::string_view row)>& visit);

// Counts the records `filter` matches (all rows when it is empty, without scanning).
Result<uint64_t> CountQuery(const ReadView& view, uint32_t table, const Schema& schema,
                            const EqualityFilter& filter);

// Looks a stored row up by its full primary key given as values in key-column order.
Result<std::optional<std::string_view>> GetByKey(const ReadView& view, uint32_t table,
                                                 const Schema& schema,
                                                 const std::vector<Value>& key);

}  // namespace sluice
