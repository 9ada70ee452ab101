// Filters as readers run them over the cache: a filter (the `filter` of a live subscription
// or a query) evaluated by the planner (indexes, full text, keyset cursors) against the rows
// it should select, and by a live subscription (snapshot, then changes).
//
// Input: an options byte (bits 0-2: the order, bits 3-5: the page size, bits 6-7 and the
// length: which row a change rewrites), then the filter's JSON (docs/rest.md).
// Contracts, for a filter the parser accepts:
// - the planner agrees with FilterMatches (the semantics) on the shop's products and on the
//   keyless log (copies counted): RunQuery, CountQuery, and page by page through cursors with
//   any order, each row exactly once, in the requested order;
// - a live subscription's snapshot (in small batches) holds exactly the matching rows, and a
//   committed update reaches it as update / insert / delete / nothing as the old and new rows
//   match or not.
// - a parsed $in/$nin list holds each value once (equal in key form: 20 and 20.00 too).
#include <algorithm>
#include <set>

#include "cache/query.h"
#include "cache/query_parser.h"
#include "fuzz_shop.h"
#include "fuzz_support.h"
#include "server/live_stream.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice::fuzz::live_filter {
namespace {

const std::vector<OrderTerm> kOrders[] = {{},           {{3, true}}, {{6, false}, {7, false}},
                                          {{1, false}}, {{5, true}}, {{4, false}},
                                          {{7, true}},  {{0, true}}};

std::string Key(FieldType type, const Value& v) {
  std::string out;
  EncodeKeyValue(type, v, &out);
  return out;
}

// An $in list naming one value twice made the planner visit that value's index range twice,
// so the rows came twice (regressions/live_filter/in_list_repeats_*); the parser keeps one.
bool RepeatsAnInValue(const FilterNode& n, const Schema& schema) {
  if (n.op == FilterNode::Op::kIn || n.op == FilterNode::Op::kNin) {
    std::set<std::string> keys;
    for (const Value& v : n.values) {
      if (!v.is_null() && !keys.insert(Key(schema.fields[n.column].type, v)).second) return true;
    }
  }
  for (const FilterNode& c : n.children) {
    if (RepeatsAnInValue(c, schema)) return true;
  }
  return false;
}

// The documented order: each term ascending (NULLs last) or descending (NULLs first), ties in
// primary-key order in the direction of the last term.
bool Before(const Schema& schema, const std::vector<OrderTerm>& order, const Record& a,
            const Record& b) {
  for (const OrderTerm& t : order) {
    const FieldType type = schema.fields[t.column].type;
    const int c = Key(type, a[t.column]).compare(Key(type, b[t.column]));
    if (c != 0) return t.descending ? c > 0 : c < 0;
  }
  const bool descending = !order.empty() && order.back().descending;
  const int c = Key(FieldType::kInt, a[0]).compare(Key(FieldType::kInt, b[0]));
  return descending ? c > 0 : c < 0;
}

std::vector<Record> Decode(const Schema& schema, const std::vector<std::string>& rows,
                           const std::string& ctx) {
  std::vector<Record> out;
  for (const std::string& row : rows) {
    auto r = DecodeRow(schema, row);
    FUZZ_CHECK(r.ok(), ctx);
    out.push_back(std::move(*r));
  }
  return out;
}

std::string Ids(const std::vector<Record>& rows) {
  std::string out;
  for (const Record& r : rows) out += (out.empty() ? "" : ",") + r[0].DebugString();
  return out;
}

// Every row of `spec` on `table`, page by page (`page` rows each) through cursors.
std::vector<std::string> Paged(const ReadView& view, uint32_t table, QuerySpec spec, uint64_t page,
                               const std::string& ctx) {
  std::vector<std::string> rows;
  spec.limit = page;
  for (int pages = 0;; ++pages) {
    FUZZ_CHECK(pages <= 200, "cursors never end: " + ctx);
    std::optional<std::string> next;
    const size_t before = rows.size();
    Status s = RunQuery(
        view, table, spec,
        [&](std::string_view row) {
          rows.emplace_back(row);
          return true;
        },
        &next);
    FUZZ_CHECK(s.ok(), "page " + std::to_string(pages) + ": " + Describe(s) + " " + ctx);
    FUZZ_CHECK(rows.size() - before <= page, ctx);
    if (!next) return rows;
    FUZZ_CHECK(rows.size() - before == page, "a cursor after a short page: " + ctx);
    spec.after = *next;
  }
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  static Shop* shop = MakeShop("live_filter").release();
  if (size == 0) return 0;
  const uint8_t options = data[0];
  const std::string filter_json(reinterpret_cast<const char*>(data) + 1, size - 1);
  const RestEndpoint& products = shop->endpoints[0];
  const Schema& schema = products.schema;
  auto filter = ParseFilterJson(schema, filter_json, "filter");
  if (!filter.ok()) return 0;  // query_json_fuzz checks refusals
  FUZZ_CHECK(!RepeatsAnInValue(*filter, schema),
             "an $in/$nin list keeps a repeated value: " + Printable(filter_json));
  const std::vector<OrderTerm>& order = kOrders[options % 8];
  const uint64_t page = 1 + (options >> 3) % 8;
  const std::string ctx =
      "options " + std::to_string(options) + " filter " + Printable(filter_json);

  std::vector<Record> expected;
  for (const Record& r : shop->products) {
    if (FilterMatches(*filter, schema, r)) expected.push_back(r);
  }
  size_t expected_log = 0;
  for (const Record& r : shop->log) expected_log += FilterMatches(*filter, schema, r);
  {
    auto view = shop->store->BeginRead();
    FUZZ_CHECK(view.ok(), ctx);
    QuerySpec spec;
    spec.filter = *filter;
    auto count = CountQuery(*view, 0, *filter);
    FUZZ_CHECK(count.ok() && *count == expected.size(),
               "CountQuery " + (count.ok() ? std::to_string(*count) : Describe(count.status())) +
                   ", FilterMatches " + std::to_string(expected.size()) + ": " + ctx);
    auto all = Decode(schema, Paged(*view, 0, spec, UINT64_MAX, ctx), ctx);
    FUZZ_CHECK(Ids(all) == Ids(expected),
               "RunQuery gave " + Ids(all) + ", FilterMatches " + Ids(expected) + ": " + ctx);
    auto explained = ExplainQuery(*view, 0, spec);
    FUZZ_CHECK(explained.ok() && IsValidJson(*explained), ctx);

    spec.order_by = order;
    std::vector<Record> sorted = expected;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](const Record& a, const Record& b) { return Before(schema, order, a, b); });
    auto paged = Decode(schema, Paged(*view, 0, spec, page, ctx), ctx);
    FUZZ_CHECK(Ids(paged) == Ids(sorted), "pages of " + std::to_string(page) + " in order " +
                                              std::to_string(options % 8) + " gave " + Ids(paged) +
                                              ", expected " + Ids(sorted) + ": " + ctx);

    auto log_count = CountQuery(*view, 1, *filter);
    FUZZ_CHECK(log_count.ok() && *log_count == expected_log,
               "log CountQuery " + (log_count.ok() ? std::to_string(*log_count) : "error") +
                   ", FilterMatches " + std::to_string(expected_log) + ": " + ctx);
    QuerySpec log_spec;
    log_spec.filter = *filter;
    log_spec.order_by = order;
    FUZZ_CHECK(Paged(*view, 1, log_spec, page, ctx).size() == expected_log, "log pages: " + ctx);
  }

  // A live subscription: its snapshot, then one update (rewriting row i with row j's values
  // under i's key) and its revert.
  LiveStream::Options live_options;
  live_options.snapshot_batch = page;
  auto stream = LiveStream::Open(*shop->store, products, *filter, live_options, [] {});
  FUZZ_CHECK(stream.ok(), Describe(stream.status()));
  std::vector<std::string> snapshot;
  for (int calls = 0;; ++calls) {
    FUZZ_CHECK(calls < 1000, "the snapshot never ends: " + ctx);
    auto messages = (*stream)->Next();
    FUZZ_CHECK(messages.ok(), Describe(messages.status()) + " " + ctx);
    bool ended = false;
    for (const LiveMessage& m : *messages) {
      if (m.kind == LiveMessage::Kind::kSnapshotEnd) ended = true;
      if (m.kind == LiveMessage::Kind::kSnapshotRow) snapshot.push_back(m.new_row);
    }
    if (ended) break;
  }
  FUZZ_CHECK(Ids(Decode(schema, snapshot, ctx)) == Ids(expected),
             "live snapshot differs from FilterMatches: " + ctx);

  const size_t i = (options >> 6) % kShopProducts, j = size % kShopProducts;
  const Record& before = shop->products[i];
  Record after = shop->products[j];
  after[0] = before[0];
  auto commit = [&](const Record& r) {
    std::string key, row;
    EncodeKey(schema, r, schema.primary_key, &key);
    EncodeRow(schema, r, &row);
    CommitBatch batch;
    batch.tables.emplace_back(0).Upsert(key, row);
    batch.epoch = 2;
    FUZZ_CHECK(shop->store->Commit(batch).ok(), ctx);
  };
  commit(after);
  commit(before);
  auto messages = (*stream)->Next();
  FUZZ_CHECK(messages.ok(), ctx);
  using Kind = LiveMessage::Kind;
  auto expect = [&](const Record& from, const Record& to) -> std::optional<Kind> {
    const bool old_m = FilterMatches(*filter, schema, from),
               new_m = FilterMatches(*filter, schema, to);
    if (old_m && new_m) return Kind::kUpdate;
    if (old_m) return Kind::kDelete;
    if (new_m) return Kind::kInsert;
    return std::nullopt;
  };
  std::vector<Kind> wanted, got;
  for (auto k : {expect(before, after), expect(after, before)}) {
    if (k) wanted.push_back(*k);
  }
  for (const LiveMessage& m : *messages) got.push_back(m.kind);
  FUZZ_CHECK(got == wanted, "live events for rewriting row " + std::to_string(i) + " as row " +
                                std::to_string(j) + ": got " + std::to_string(got.size()) +
                                ", expected " + std::to_string(wanted.size()) + " " + ctx);
  return 0;
}

}  // namespace sluice::fuzz::live_filter
