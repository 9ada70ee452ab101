// QuerySpec: a parsed query of the query language (docs/rest.md): a filter tree, an order,
// paging and an optional keyset cursor. Columns are indexes into the endpoint's schema and
// values are already of the column's type, so evaluation never parses or guesses.
// Built by ParseQueryJson (query_parser.h); run by RunQuery/CountQuery/ExplainQuery (query.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "types/value.h"

namespace sluice {

struct FilterNode {
  enum class Op : uint8_t {
    kTrue,  // matches every row (an empty filter)
    kEq,
    kNe,
    kLt,
    kLte,
    kGt,
    kGte,
    kIn,
    kNin,
    kPrefix,      // strings: starts with values[0]
    kContains,    // full text: every word of `words` occurs
    kMatchesAny,  // full text: at least one word of `words` occurs
    kIsNull,      // {"f": null} and {"f": {"$eq": null}} (a JSON filter's null, as in MongoDB)
    kIsNotNull,   // {"f": {"$ne": null}}
    kAnd,
    kOr,
    kNot,
  };
  Op op = Op::kTrue;
  size_t column = 0;          // comparisons and full text
  std::vector<Value> values;  // one for comparisons/prefix, a list for $in/$nin
  // Comparisons and $in/$nin: the non-null values in the key encoding, made once when the
  // filter is parsed, so evaluating a row encodes only the row's value (and $in/$nin look
  // it up in a hash set instead of comparing it with every value).
  std::vector<std::string> keys;
  std::shared_ptr<const absl::flat_hash_set<std::string>> key_set;  // $in/$nin
  bool list_has_null = false;                                       // $in/$nin
  std::vector<std::string> words;    // full text: normalised words (see text_tokens.h)
  std::vector<FilterNode> children;  // $and/$or (any number), $not (one)
};

struct OrderTerm {
  size_t column;
  bool descending = false;
};

struct QuerySpec {
  FilterNode filter;
  std::vector<OrderTerm> order_by;  // empty: primary-key (or insertion) order
  uint64_t limit = UINT64_MAX;
  uint64_t skip = 0;
  std::optional<std::string> after;  // a cursor from a previous page (opaque, see cursor.h)
};

}  // namespace sluice
