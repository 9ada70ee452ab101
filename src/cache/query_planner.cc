#include "cache/query_planner.h"

#include <algorithm>
#include <map>

#include "cache/index_entries.h"
#include "types/key_codec.h"
#include "types/value_text.h"

namespace sluice {
namespace {

using Op = FilterNode::Op;
constexpr size_t kMaxExpandedKeys = 1000;  // $in lists expand into at most this many lookups

// What the top-level AND of a filter says about one column.
struct ColumnFacts {
  std::vector<const Value*> equal;  // $eq (one value) or $in (several); NULLs left out
  bool single_equal = false;        // pinned to one value by $eq
  bool has_equal = false;
  const FilterNode* lower = nullptr;  // $gt / $gte
  const FilterNode* upper = nullptr;  // $lt / $lte
  const FilterNode* prefix = nullptr;
};

std::map<size_t, ColumnFacts> CollectFacts(const FilterNode& filter) {
  std::vector<const FilterNode*> conjuncts;
  if (filter.op == Op::kAnd) {
    for (const auto& child : filter.children) conjuncts.push_back(&child);
  } else if (filter.op != Op::kTrue) {
    conjuncts.push_back(&filter);
  }
  std::map<size_t, ColumnFacts> facts;
  for (const FilterNode* node : conjuncts) {
    ColumnFacts& f = facts[node->column];
    switch (node->op) {
      case Op::kEq:
      case Op::kIn:
        if (f.has_equal) break;
        f.has_equal = true;
        f.single_equal = node->op == Op::kEq;
        for (const Value& v : node->values) {
          if (!v.is_null()) f.equal.push_back(&v);
        }
        break;
      case Op::kGt:
      case Op::kGte:
        if (!f.lower && !node->values[0].is_null()) f.lower = node;
        break;
      case Op::kLt:
      case Op::kLte:
        if (!f.upper && !node->values[0].is_null()) f.upper = node;
        break;
      case Op::kPrefix:
        if (!f.prefix) f.prefix = node;
        break;
      default:
        break;
    }
  }
  // Only AND-ed facts about columns matter; drop entries created for other operators.
  std::erase_if(facts, [](const auto& kv) {
    const ColumnFacts& f = kv.second;
    return !f.has_equal && !f.lower && !f.upper && !f.prefix;
  });
  return facts;
}

std::string Encoded(FieldType type, const Value& value) {
  std::string out;
  EncodeKeyValue(type, value, &out);
  return out;
}

// The requested order with columns pinned to one value removed (they are constant), and
// the direction rows with equal order values are returned in.
struct RequestedOrder {
  std::vector<OrderTerm> terms;
  bool tie_descending = false;
};

RequestedOrder StripPinned(const QuerySpec& spec, const std::map<size_t, ColumnFacts>& facts) {
  RequestedOrder order;
  order.tie_descending = !spec.order_by.empty() && spec.order_by.back().descending;
  for (const OrderTerm& term : spec.order_by) {
    auto it = facts.find(term.column);
    if (it != facts.end() && it->second.single_equal) continue;
    order.terms.push_back(term);
  }
  return order;
}

// Whether reading in primary-key order (the row id itself) gives the requested order, and in
// which direction: the order's columns must be a prefix of the unpinned key columns.
std::optional<bool> KeyDirection(const std::vector<size_t>& columns,
                                 const std::map<size_t, ColumnFacts>& facts,
                                 const RequestedOrder& order) {
  std::vector<size_t> unpinned;
  for (size_t c : columns) {
    auto it = facts.find(c);
    if (it == facts.end() || !it->second.single_equal) unpinned.push_back(c);
  }
  if (order.terms.size() > unpinned.size()) return std::nullopt;
  for (size_t i = 0; i < order.terms.size(); ++i) {
    if (order.terms[i].column != unpinned[i]) return std::nullopt;
    if (order.terms[i].descending != order.tie_descending) return std::nullopt;
  }
  return order.tie_descending;
}

// Whether an index walked over one range (its leading columns pinned) returns rows in the
// requested order: the remaining index columns are exactly the order's columns, all in the
// direction ties are broken in (index entries end with the row id).
bool IndexGivesOrder(const std::vector<size_t>& rest, const RequestedOrder& order) {
  if (rest.size() != order.terms.size()) return false;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (order.terms[i].column != rest[i]) return false;
    if (order.terms[i].descending != order.tie_descending) return false;
  }
  return true;
}

// Truncation as the index entries are truncated (index_entries.h), widening the range.
KeyRange Widen(KeyRange range) {
  if (range.lo.size() > kMaxIndexPart) range.lo.resize(kMaxIndexPart);
  if (range.hi.size() > kMaxIndexPart) range.hi = PrefixEnd(range.hi.substr(0, kMaxIndexPart));
  return range;
}

// Ranges of a sorted index from the facts, or nullopt when its first column has none.
std::optional<Access> SortedIndexAccess(const Schema& schema, const IndexDefinition& index,
                                        int index_number,
                                        const std::map<size_t, ColumnFacts>& facts) {
  std::vector<std::string> prefixes{""};
  size_t used = 0;
  bool expanded = false;
  for (size_t column : index.columns) {
    auto it = facts.find(column);
    if (it == facts.end() || !it->second.has_equal) break;
    const ColumnFacts& f = it->second;
    if (f.equal.empty()) return Access{.kind = Access::Kind::kIndexRanges, .index = index_number};
    if (f.equal.size() > 1) {
      if (prefixes.size() * f.equal.size() > kMaxExpandedKeys) break;
      expanded = true;
    }
    std::vector<std::string> next;
    for (const std::string& p : prefixes) {
      for (const Value* v : f.equal) next.push_back(p + Encoded(schema.fields[column].type, *v));
    }
    prefixes = std::move(next);
    ++used;
  }
  Access access{.kind = Access::Kind::kIndexRanges, .index = index_number};
  access.order_columns_from = used;
  const ColumnFacts* range_facts = nullptr;
  size_t range_column = 0;
  if (used < index.columns.size()) {
    range_column = index.columns[used];
    auto it = facts.find(range_column);
    if (it != facts.end()) range_facts = &it->second;
  }
  if (used == 0 && !range_facts) return std::nullopt;
  const FieldType type =
      used < index.columns.size() ? schema.fields[range_column].type : FieldType::kInt;
  for (const std::string& p : prefixes) {
    KeyRange range{p, PrefixEnd(p)};
    if (range_facts && range_facts->prefix) {
      std::string enc = Encoded(type, range_facts->prefix->values[0]);
      enc.resize(enc.size() - 2);  // drop the string terminator: any continuation matches
      range = {p + enc, PrefixEnd(p + enc)};
    } else if (range_facts && (range_facts->lower || range_facts->upper)) {
      if (const FilterNode* lower = range_facts->lower) {
        std::string enc = p + Encoded(type, lower->values[0]);
        range.lo = lower->op == Op::kGte ? enc : PrefixEnd(enc);
      } else {
        range.lo = p + '\x01';  // skip NULLs (tag 0x00 is never used; values start at 0x01)
      }
      if (const FilterNode* upper = range_facts->upper) {
        std::string enc = p + Encoded(type, upper->values[0]);
        range.hi = upper->op == Op::kLt ? enc : PrefixEnd(enc);
      } else {
        range.hi = p + '\x02';  // NULLs (tag 0x02) never pass a comparison
      }
    }
    access.ranges.push_back(Widen(std::move(range)));
  }
  if (!expanded && access.ranges.size() == 1) access.seek_prefix = prefixes[0];
  return access;
}

// Whether `access` (key lookups, or ranges of `index` with `used` pinned columns) reads exactly
// the filter's rows: every conjunct is a non-NULL $eq/$in on a pinned column, or the one lower
// and/or upper bound or $prefix the ranges were made from, and nothing was truncated.
bool IsExact(const FilterNode& filter, const std::vector<size_t>& pinned,
             std::optional<size_t> range_column, const Access& access) {
  std::vector<const FilterNode*> conjuncts;
  if (filter.op == Op::kAnd) {
    for (const auto& child : filter.children) conjuncts.push_back(&child);
  } else {
    conjuncts.push_back(&filter);
  }
  for (const KeyRange& r : access.ranges) {
    if (r.lo.size() >= kMaxIndexPart || r.hi.size() >= kMaxIndexPart) return false;
  }
  std::map<size_t, int> equalities, lowers, uppers, prefixes;
  for (const FilterNode* node : conjuncts) {
    const bool on_pinned = std::find(pinned.begin(), pinned.end(), node->column) != pinned.end();
    const bool on_range = range_column && node->column == *range_column;
    switch (node->op) {
      case Op::kEq:
      case Op::kIn:
        if (!on_pinned || ++equalities[node->column] > 1) return false;
        if (node->op == Op::kEq && node->values[0].is_null()) return false;
        break;
      case Op::kGt:
      case Op::kGte:
        if (!on_range || node->values[0].is_null() || ++lowers[node->column] > 1) return false;
        break;
      case Op::kLt:
      case Op::kLte:
        if (!on_range || node->values[0].is_null() || ++uppers[node->column] > 1) return false;
        break;
      case Op::kPrefix:
        if (!on_range || ++prefixes[node->column] > 1) return false;
        break;
      default:
        return false;
    }
  }
  // The planner makes ranges from a $prefix or from bounds, not both.
  return !(range_column && prefixes.count(*range_column) &&
           (lowers.count(*range_column) || uppers.count(*range_column)));
}

Status Estimate(const ReadView& view, uint32_t table, Access* access) {
  uint64_t n = 0;
  auto count_range = [&](int tree, const KeyRange& range) {
    return view.ScanTree(table, tree, range.lo, false, [&](std::string_view key, std::string_view) {
      if (!range.hi.empty() && key >= range.hi) return false;
      return ++n < kEstimateCap;
    });
  };
  switch (access->kind) {
    case Access::Kind::kKeyLookup:
      n = access->keys.size();
      break;
    case Access::Kind::kRowsScan: {
      ASSIGN_OR_RETURN(n, view.TreeEntries(table, kRows));
      access->estimate = n;
      return Status::OK();
    }
    case Access::Kind::kIndexRanges:
      for (const KeyRange& range : access->ranges) {
        if (n >= kEstimateCap) break;
        RETURN_IF_ERROR(count_range(access->index, range));
      }
      break;
    case Access::Kind::kWords: {
      uint64_t best = UINT64_MAX, sum = 0;
      std::vector<std::pair<uint64_t, std::string>> counted;
      for (const std::string& word : access->words) {
        n = 0;
        RETURN_IF_ERROR(count_range(access->index, {word, PrefixEnd(word)}));
        best = std::min(best, n);
        sum += n;
        counted.emplace_back(n, word);
      }
      // Rarest word first: its postings drive the read, the others are probed.
      std::stable_sort(counted.begin(), counted.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 0; i < counted.size(); ++i) access->words[i] = std::move(counted[i].second);
      n = access->all_words ? best : sum;
      break;
    }
  }
  access->estimate_capped = n >= kEstimateCap;
  access->estimate = std::min(n, kEstimateCap);
  return Status::OK();
}

std::optional<Access> KeyLookup(const Schema& schema, const std::map<size_t, ColumnFacts>& facts) {
  if (!schema.has_primary_key()) return std::nullopt;
  std::vector<std::string> keys{""};
  for (size_t column : schema.primary_key) {
    auto it = facts.find(column);
    if (it == facts.end() || !it->second.has_equal) return std::nullopt;
    if (keys.size() * it->second.equal.size() > kMaxExpandedKeys) return std::nullopt;
    std::vector<std::string> next;
    for (const std::string& k : keys) {
      for (const Value* v : it->second.equal) {
        next.push_back(k + Encoded(schema.fields[column].type, *v));
      }
    }
    keys = std::move(next);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return Access{.kind = Access::Kind::kKeyLookup, .keys = std::move(keys)};
}

void AppendJsonField(std::string_view name, std::string_view raw_value, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(name, out);
  out->push_back(':');
  out->append(raw_value);
}

void DescribeAccess(const TableDefinition& table, const Access& access, std::string* out) {
  static const char* kKinds[] = {"key_lookup", "rows_scan", "index_ranges", "words"};
  out->push_back('{');
  std::string kind;
  AppendJsonString(kKinds[int(access.kind)], &kind);
  AppendJsonField("access", kind, out);
  if (access.index != kRows) {
    std::string index;
    AppendJsonString(table.indexes[access.index].Describe(table.schema), &index);
    AppendJsonField("index", index, out);
  }
  if (access.kind == Access::Kind::kKeyLookup) {
    AppendJsonField("keys", std::to_string(access.keys.size()), out);
  }
  if (access.kind == Access::Kind::kIndexRanges) {
    AppendJsonField("ranges", std::to_string(access.ranges.size()), out);
  }
  if (access.kind == Access::Kind::kWords) {
    AppendJsonField("words", std::to_string(access.words.size()), out);
    AppendJsonField("match", access.all_words ? "\"all\"" : "\"any\"", out);
  }
  AppendJsonField("reverse", access.reverse ? "true" : "false", out);
  AppendJsonField("estimated_rows", std::to_string(access.estimate), out);
  out->push_back('}');
}

}  // namespace

std::string PrefixEnd(std::string s) {
  while (!s.empty()) {
    if (uint8_t(s.back()) != 0xFF) {
      s.back() = char(uint8_t(s.back()) + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

uint64_t Plan::estimate() const {
  uint64_t best = UINT64_MAX;
  for (const Access& a : accesses) best = std::min(best, a.estimate);
  return best == UINT64_MAX ? 0 : best;
}

Result<Plan> PlanQuery(const ReadView& view, uint32_t table, const QuerySpec& spec,
                       PlanPurpose purpose) {
  const TableDefinition& definition = view.definition(table);
  const Schema& schema = definition.schema;
  const auto facts = CollectFacts(spec.filter);
  const RequestedOrder order = StripPinned(spec, facts);

  Plan plan;
  if (auto lookup = KeyLookup(schema, facts)) {
    if (auto reverse = KeyDirection(schema.primary_key, facts, order)) {
      lookup->ordered = true;
      lookup->reverse = *reverse;
      if (*reverse) std::reverse(lookup->keys.begin(), lookup->keys.end());
    }
    lookup->exact = spec.filter.op != Op::kTrue &&
                    IsExact(spec.filter, schema.primary_key, std::nullopt, *lookup);
    RETURN_IF_ERROR(Estimate(view, table, &*lookup));
    plan.accesses.push_back(std::move(*lookup));
    return plan;
  }

  std::vector<Access> unordered, ordered;
  Access scan{.kind = Access::Kind::kRowsScan};
  if (auto reverse = KeyDirection(schema.primary_key, facts, order)) {
    scan.ordered = true;
    scan.reverse = *reverse;
  }
  RETURN_IF_ERROR(Estimate(view, table, &scan));

  std::vector<const FilterNode*> conjuncts;
  if (spec.filter.op == Op::kAnd) {
    for (const auto& child : spec.filter.children) conjuncts.push_back(&child);
  } else {
    conjuncts.push_back(&spec.filter);
  }
  for (size_t i = 0; i < definition.indexes.size(); ++i) {
    const IndexDefinition& index = definition.indexes[i];
    if (index.kind == IndexDefinition::Kind::kFullText) {
      for (const FilterNode* node : conjuncts) {
        if ((node->op != Op::kContains && node->op != Op::kMatchesAny) ||
            node->column != index.columns[0]) {
          continue;
        }
        Access words{.kind = Access::Kind::kWords, .index = int(i)};
        for (const std::string& w : node->words) words.words.push_back(WordEntryPrefix(w));
        words.all_words = node->op == Op::kContains;
        // Postings are in row-id order, which is the default result order.
        if (auto reverse = KeyDirection(schema.primary_key, facts, order); reverse && !*reverse) {
          words.ordered = true;
        }
        RETURN_IF_ERROR(Estimate(view, table, &words));
        (words.ordered ? ordered : unordered).push_back(std::move(words));
        break;
      }
      continue;
    }
    std::optional<Access> access = SortedIndexAccess(schema, index, int(i), facts);
    const bool one_range = !access || access->ranges.size() == 1;
    const std::vector<size_t> rest(
        index.columns.begin() + (access ? access->order_columns_from : 0), index.columns.end());
    const bool gives_order = one_range && IndexGivesOrder(rest, order);
    if (!access) {
      // No predicate, but walking the index gives the requested order.
      if (!gives_order || order.terms.empty()) continue;
      access = Access{.kind = Access::Kind::kIndexRanges, .index = int(i), .ranges = {{"", ""}}};
    }
    if (gives_order) {
      access->ordered = true;
      access->reverse = order.tie_descending;
    }
    {
      const size_t used = access->order_columns_from;
      const std::vector<size_t> pinned(index.columns.begin(), index.columns.begin() + used);
      std::optional<size_t> range_column;
      if (used < index.columns.size()) range_column = index.columns[used];
      access->exact = spec.filter.op != Op::kTrue && !access->ranges.empty() &&
                      access->ranges[0].lo.size() > 0 &&
                      IsExact(spec.filter, pinned, range_column, *access);
    }
    (access->ordered ? ordered : unordered).push_back(std::move(*access));
  }
  // A sole ordered candidate is chosen whatever its size (below: bounded, or streamed to the
  // page end), so counting its entries would only cost the query a second pass over them.
  const bool sole_ordered = ordered.size() == 1 && unordered.empty();
  if (purpose == PlanPurpose::kExplain || !sole_ordered) {
    for (auto* list : {&ordered, &unordered}) {
      for (Access& access : *list) {
        if (access.kind == Access::Kind::kIndexRanges) {
          RETURN_IF_ERROR(Estimate(view, table, &access));
        }
      }
    }
  }

  auto by_estimate = [](const Access& a, const Access& b) { return a.estimate < b.estimate; };
  std::sort(unordered.begin(), unordered.end(), by_estimate);
  std::sort(ordered.begin(), ordered.end(), by_estimate);
  // A bounded candidate (fewer than kEstimateCap rows) is cheap whatever the order.
  const Access* best_bounded = nullptr;
  for (const auto* list : {&ordered, &unordered}) {
    if (!list->empty() && !list->front().estimate_capped &&
        (!best_bounded || list->front().estimate < best_bounded->estimate)) {
      best_bounded = &list->front();
    }
  }
  if (best_bounded) {
    plan.accesses.push_back(*best_bounded);
    return plan;
  }
  // Otherwise stream in the requested order and stop at the page's end; when that reads
  // too many rows without filling the page, the executor falls back to the index answers.
  if (!ordered.empty() || scan.ordered) {
    plan.accesses.push_back(!ordered.empty() ? ordered.front() : scan);
    for (size_t i = 0; i < unordered.size() && i < 2; ++i) plan.fallback.push_back(unordered[i]);
    return plan;
  }
  if (unordered.size() >= 2) {
    plan.accesses = {unordered[0], unordered[1]};
  } else if (unordered.size() == 1) {
    plan.accesses.push_back(unordered[0]);
  } else {
    plan.accesses.push_back(scan);
  }
  return plan;
}

std::string DescribePlan(const TableDefinition& table, const QuerySpec& spec, const Plan& plan) {
  std::string out = "{\"plan\":{";
  if (plan.accesses.size() == 1) {
    std::string access;
    DescribeAccess(table, plan.accesses[0], &access);
    out += access.substr(1, access.size() - 2);
  } else {
    out += "\"access\":\"intersect\",\"of\":[";
    for (size_t i = 0; i < plan.accesses.size(); ++i) {
      if (i) out += ",";
      DescribeAccess(table, plan.accesses[i], &out);
    }
    out += "]";
  }
  if (!plan.fallback.empty()) {
    out += ",\"fallback\":[";
    for (size_t i = 0; i < plan.fallback.size(); ++i) {
      if (i) out += ",";
      DescribeAccess(table, plan.fallback[i], &out);
    }
    out += "]";
  }
  const bool sorted = !plan.ordered() && (!spec.order_by.empty() || plan.accesses.size() > 1 ||
                                          plan.accesses[0].kind != Access::Kind::kRowsScan);
  out += ",\"order\":";
  out += sorted ? "\"sorted after reading (top " + std::string("skip+limit") + ")\""
                : "\"read in order, stops at the page end\"";
  const bool exact = plan.accesses.size() == 1 && plan.accesses[0].exact && plan.fallback.empty();
  out += exact ? ",\"filter\":\"answered by the access alone\"}"
               : ",\"filter\":\"re-checked on every row read\"}";
  out += ",\"estimated_rows\":" + std::to_string(plan.estimate());
  out += ",\"estimate_capped\":";
  bool capped = true;
  for (const Access& a : plan.accesses) capped = capped && a.estimate_capped;
  out += capped ? "true" : "false";
  out += "}";
  return out;
}

}  // namespace sluice
