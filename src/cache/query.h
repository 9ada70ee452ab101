// The query layer every reader (REST, gRPC, live subscriptions, later pgwire) shares over the
// cache: a QuerySpec (query_spec.h) is planned against the table's indexes — primary-key
// lookups, sorted-index ranges, full-text postings, intersections of several — and falls back
// to a scan for whatever no index covers, so every query is answered; the planner only
// changes how fast. Results are stored rows (row codec bytes, see types/row_json.h to print
// them) valid until the view ends.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "cache/query_spec.h"
#include "common/status.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice {

// Runs `spec` on `table`: `visit` gets each matching row in the requested order (multiset
// copies repeated) and may stop early by returning false. When the page is full and more rows
// may follow, `*next_cursor` receives the cursor that continues right after its last row.
// A malformed or foreign `spec.after` is an InvalidArgument naming `$after`.
Status RunQuery(const ReadView& view, uint32_t table, const QuerySpec& spec,
                const std::function<bool(std::string_view row)>& visit,
                std::optional<std::string>* next_cursor = nullptr);

// Number of rows `filter` matches (all rows without scanning when it is kTrue).
Result<uint64_t> CountQuery(const ReadView& view, uint32_t table, const FilterNode& filter);

// Number of rows RunQuery would visit for `spec` (its filter, $skip, $limit and $after).
Result<uint64_t> CountPage(const ReadView& view, uint32_t table, const QuerySpec& spec);

// The plan RunQuery would choose, as a JSON object: {"plan": {...}, "estimated_rows": n}.
Result<std::string> ExplainQuery(const ReadView& view, uint32_t table, const QuerySpec& spec);

// Looks a stored row up by its full primary key given as values in key-column order.
Result<std::optional<std::string_view>> GetByKey(const ReadView& view, uint32_t table,
                                                 const std::vector<Value>& key);

// Whether a decoded row passes `filter` (SQL semantics: a comparison with NULL is unknown,
// and unknown never matches, also under $not; but equality with null is IS NULL and $ne null
// IS NOT NULL, see FilterNode::Op::kIsNull).
bool FilterMatches(const FilterNode& filter, const Schema& schema, const Record& row);

}  // namespace sluice
