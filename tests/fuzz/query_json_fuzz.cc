// The query language (docs/rest.md) as clients send it: POST {path}/query, /count and
// /explain bodies, a filter alone (the `filter` parameter, live subscriptions, token row
// filters) and `order_by` (JSON or "col:desc,col2").
//
// Input: a mode byte, then the text. 'q' query body, 'c' count body, 'e' explain body,
// 'f' filter, 'o' order_by; anything else is a query body.
// Contracts: an error is InvalidArgument whose message starts with the JSON path of the
// offending part, and its REST error body is valid JSON; nothing throws. A parsed query is
// well formed: columns exist, values have their column's type, comparisons hold one value,
// $not one child, full-text words are non-empty, $limit within the limit. Evaluating the
// filter on every test row works, and no row matches both the filter and its $not.
#include <algorithm>

#include "cache/query.h"
#include "cache/query_parser.h"
#include "fuzz_shop.h"
#include "fuzz_support.h"
#include "server/http/rest_api.h"

namespace sluice::fuzz::query_json {
namespace {

using Op = FilterNode::Op;

bool IsText(FieldType t) { return t == FieldType::kString || t == FieldType::kText; }

void CheckFilter(const FilterNode& n, const Schema& schema, int depth, const std::string& ctx) {
  FUZZ_CHECK(depth <= 40, "filter nests deeper than the parser allows: " + ctx);
  auto column_ok = [&] { return n.column < schema.fields.size(); };
  switch (n.op) {
    case Op::kTrue:
      FUZZ_CHECK(n.children.empty() && n.values.empty(), ctx);
      return;
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte:
      FUZZ_CHECK(column_ok() && n.values.size() == 1, ctx);
      FUZZ_CHECK(ValueFits(schema.fields[n.column].type, n.values[0]), "operand type: " + ctx);
      // null equality became IS NULL / IS NOT NULL
      if (n.op == Op::kEq || n.op == Op::kNe) FUZZ_CHECK(!n.values[0].is_null(), ctx);
      return;
    case Op::kIn:
    case Op::kNin:
      FUZZ_CHECK(column_ok(), ctx);
      for (const Value& v : n.values) {
        FUZZ_CHECK(ValueFits(schema.fields[n.column].type, v), "list value type: " + ctx);
      }
      return;
    case Op::kPrefix:
      FUZZ_CHECK(column_ok() && IsText(schema.fields[n.column].type), ctx);
      FUZZ_CHECK(n.values.size() == 1 && ValueFits(FieldType::kString, n.values[0]) &&
                     !n.values[0].is_null(),
                 ctx);
      return;
    case Op::kContains:
    case Op::kMatchesAny:
      FUZZ_CHECK(column_ok() && IsText(schema.fields[n.column].type), ctx);
      FUZZ_CHECK(!n.words.empty(), "full text without words: " + ctx);
      for (const std::string& w : n.words) FUZZ_CHECK(!w.empty(), "empty word: " + ctx);
      return;
    case Op::kIsNull:
    case Op::kIsNotNull:
      FUZZ_CHECK(column_ok(), ctx);
      return;
    case Op::kAnd:
    case Op::kOr:
      FUZZ_CHECK(!n.children.empty(), "empty $and/$or: " + ctx);
      break;
    case Op::kNot:
      FUZZ_CHECK(n.children.size() == 1,
                 "$not with " + std::to_string(n.children.size()) + " children: " + ctx);
      break;
  }
  for (const FilterNode& child : n.children) CheckFilter(child, schema, depth + 1, ctx);
}

void CheckError(const Status& s, std::string_view prefix, const std::string& ctx) {
  FUZZ_CHECK(s.code() == StatusCode::kInvalidArgument, Describe(s) + " for " + ctx);
  FUZZ_CHECK(s.message().starts_with(prefix),
             "error does not start with " + std::string(prefix) + ": " + Describe(s));
  FUZZ_CHECK(IsValidJson(RestApi::Error(400, s.message()).body),
             "error body is not JSON: " + Describe(s));
}

void Evaluate(const FilterNode& filter, const Schema& schema, const std::vector<Record>& rows,
              const std::string& ctx) {
  FilterNode negated;
  negated.op = Op::kNot;
  negated.children.push_back(filter);
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool match = FilterMatches(filter, schema, rows[i]);
    const bool not_match = FilterMatches(negated, schema, rows[i]);
    FUZZ_CHECK(!(match && not_match),
               "row " + std::to_string(i) + " matches a filter and its $not: " + ctx);
  }
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  static const Schema schema = ShopProductSchema();
  static const std::vector<Record> rows = [] {
    std::vector<Record> out;
    for (int i = 0; i < kShopProducts; ++i) out.push_back(ShopProduct(i));
    return out;
  }();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const char mode = in.empty() ? 'q' : in[0];
  if (!in.empty()) in.remove_prefix(1);
  const std::string ctx = std::string(1, mode) + " " + Printable(in);

  if (mode == 'f') {
    auto filter = ParseFilterJson(schema, in, "filter");
    if (!filter.ok()) return CheckError(filter.status(), "filter", ctx), 0;
    CheckFilter(*filter, schema, 0, ctx);
    Evaluate(*filter, schema, rows, ctx);
    return 0;
  }
  if (mode == 'o') {
    auto order = ParseOrderBy(schema, in, "order_by");
    if (!order.ok()) return CheckError(order.status(), "order_by", ctx), 0;
    for (const OrderTerm& t : *order) FUZZ_CHECK(t.column < schema.fields.size(), ctx);
    return 0;
  }
  const QueryBodyKind kind = mode == 'c'   ? QueryBodyKind::kCount
                             : mode == 'e' ? QueryBodyKind::kExplain
                                           : QueryBodyKind::kQuery;
  const QueryLimits limits{RestApi::kDefaultLimit, RestApi::kMaxLimit};
  auto spec = ParseQueryJson(schema, in, kind, limits);
  if (!spec.ok()) {
    const std::string& m = spec.status().message();
    FUZZ_CHECK(m.starts_with("$") || m.starts_with("body ") || m.starts_with("unknown key"),
               "query error names no place: " + Describe(spec.status()));
    return CheckError(spec.status(), "", ctx), 0;
  }
  FUZZ_CHECK(spec->limit <= limits.max_limit ||
                 (kind == QueryBodyKind::kCount && spec->limit == UINT64_MAX),
             "limit " + std::to_string(spec->limit) + ": " + ctx);
  for (const OrderTerm& t : spec->order_by) FUZZ_CHECK(t.column < schema.fields.size(), ctx);
  CheckFilter(spec->filter, schema, 0, ctx);
  Evaluate(spec->filter, schema, rows, ctx);
  return 0;
}

}  // namespace sluice::fuzz::query_json
