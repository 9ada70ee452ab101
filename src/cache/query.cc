#include "cache/query.h"

#include <algorithm>
#include <queue>

#include "cache/index_entries.h"
#include "cache/query_order.h"
#include "cache/query_planner.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

// Row ids an intersected access may materialise before the plan gives up on intersecting.
constexpr size_t kMaxIntersectIds = 4'000'000;

// Calls `visit(row_id, row)` for the rows `access` reads, in its order, starting after
// `seek` (a row's position in that order) when given; stops when `visit` returns false.
using RowVisitor = std::function<bool(std::string_view row_id, std::string_view row)>;

class AccessReader {
 public:
  AccessReader(const ReadView& view, uint32_t table) : view_(view), table_(table) {}

  Status Read(const Access& access, const std::optional<std::string>& seek_key,
              const RowVisitor& visit) {
    switch (access.kind) {
      case Access::Kind::kKeyLookup:
        for (const std::string& key : access.keys) {
          if (seek_key && (access.reverse ? key >= *seek_key : key <= *seek_key)) continue;
          ASSIGN_OR_RETURN(auto row, view_.Get(table_, key));
          if (row && !visit(key, *row)) break;
        }
        return Status::OK();
      case Access::Kind::kRowsScan:
        return view_.ScanTree(table_, kRows, seek_key.value_or(""), access.reverse,
                              [&](std::string_view key, std::string_view row) {
                                if (seek_key && key == *seek_key) return true;
                                return visit(key, row);
                              });
      case Access::Kind::kIndexRanges:
        for (const KeyRange& range : access.ranges) {
          bool stopped = false;
          RETURN_IF_ERROR(ReadRange(access, range, seek_key, visit, &stopped));
          if (stopped) break;
        }
        return Status::OK();
      case Access::Kind::kWords: {
        if (access.all_words) return ReadAllWords(access, seek_key, visit);
        ASSIGN_OR_RETURN(std::vector<std::string> ids, WordIds(access));
        if (seek_key) {
          ids.erase(ids.begin(), std::upper_bound(ids.begin(), ids.end(), *seek_key));
        }
        return VisitIds(ids, visit);
      }
    }
    return Status::OK();
  }

  // The row ids `access` yields, sorted (for intersections); false when too many.
  Result<std::optional<std::vector<std::string>>> SortedIds(const Access& access) {
    std::vector<std::string> ids;
    bool too_many = false, malformed = false;
    if (access.kind == Access::Kind::kWords) {
      ASSIGN_OR_RETURN(ids, WordIds(access));
      if (ids.size() > kMaxIntersectIds) return std::optional<std::vector<std::string>>();
    } else if (access.kind == Access::Kind::kIndexRanges) {
      for (const KeyRange& range : access.ranges) {
        RETURN_IF_ERROR(view_.ScanTree(table_, access.index, range.lo, false,
                                       [&](std::string_view key, std::string_view value) {
                                         if (!range.hi.empty() && key >= range.hi) return false;
                                         std::string_view id, row;
                                         if (!SplitSortedEntryValue(value, &id, &row)) {
                                           malformed = true;
                                           return false;
                                         }
                                         ids.emplace_back(id);
                                         too_many = ids.size() > kMaxIntersectIds;
                                         return !too_many;
                                       }));
        if (malformed) return DataLoss("malformed index entry");
        if (too_many) return std::optional<std::vector<std::string>>();
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    } else {
      return std::optional<std::vector<std::string>>();
    }
    return std::optional<std::vector<std::string>>(std::move(ids));
  }

  Status VisitIds(const std::vector<std::string>& ids, const RowVisitor& visit) {
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(std::string_view row, RowById(id));
      if (!visit(id, row)) break;
    }
    return Status::OK();
  }

 private:
  // The row an index entry points at; a missing one means the index is corrupt.
  Result<std::string_view> RowById(std::string_view id) {
    ASSIGN_OR_RETURN(auto row, view_.Get(table_, id));
    if (!row) return DataLoss("index entry points at a missing row");
    return *row;
  }

  Status ReadRange(const Access& access, const KeyRange& range,
                   const std::optional<std::string>& seek_key, const RowVisitor& visit,
                   bool* stopped) {
    Status status;
    std::string start = access.reverse ? range.hi : range.lo;
    if (seek_key) start = *seek_key;
    RETURN_IF_ERROR(view_.ScanTree(table_, access.index, start, access.reverse,
                                   [&](std::string_view key, std::string_view value) {
                                     if (seek_key && key == *seek_key) return true;
                                     if (access.reverse ? key < range.lo
                                                        : (!range.hi.empty() && key >= range.hi)) {
                                       return false;
                                     }
                                     if (access.reverse && !range.hi.empty() && key >= range.hi)
                                       return true;
                                     std::string_view id, row;
                                     if (!SplitSortedEntryValue(value, &id, &row)) {
                                       status = DataLoss("malformed index entry");
                                       return false;
                                     }
                                     if (!visit(id, row)) {
                                       *stopped = true;
                                       return false;
                                     }
                                     return true;
                                   }));
    return status;
  }

  // Rows having every word, in row-id order from `after_id` on. When the planner knew the
  // first word to be the rarest (its count below the estimate cap), its postings are walked
  // and each id probed in the other words' postings, so the cost follows the rarest word.
  // When every count was capped, which word is rarest is unknown, so the postings are
  // intersected by leapfrogging instead (MergeAllWords).
  Status ReadAllWords(const Access& access, const std::optional<std::string>& after_id,
                      const RowVisitor& visit) {
    if (access.estimate_capped) return MergeAllWords(access, after_id, visit);
    const std::string& driver = access.words[0];
    const std::string end = PrefixEnd(driver);
    std::string probe;
    Status status;
    RETURN_IF_ERROR(view_.ScanTree(table_, access.index, after_id ? driver + *after_id : driver,
                                   false, [&](std::string_view key, std::string_view id) {
                                     if (key >= end) return false;
                                     if (after_id && id == *after_id) return true;
                                     for (size_t w = 1; w < access.words.size(); ++w) {
                                       probe.assign(access.words[w]).append(id);
                                       auto found = view_.HasKey(table_, access.index, probe);
                                       if (!found.ok()) {
                                         status = found.status();
                                         return false;
                                       }
                                       if (!*found) return true;
                                     }
                                     auto row = RowById(id);
                                     if (!row.ok()) {
                                       status = row.status();
                                       return false;
                                     }
                                     return visit(id, *row);
                                   }));
    return status;
  }

  // Leapfrog intersection: a forward cursor per word; each in turn seeks the current
  // candidate id, and lands on it (one more word agrees) or beyond it (a new candidate).
  // Every seek skips what the other words lack, so the sparsest word sets the pace whichever
  // word comes first, and the first word without a later posting ends the read.
  Status MergeAllWords(const Access& access, const std::optional<std::string>& after_id,
                       const RowVisitor& visit) {
    const size_t n = access.words.size();
    std::vector<ReadView::Cursor> cursors;
    for (size_t w = 0; w < n; ++w) {
      ASSIGN_OR_RETURN(ReadView::Cursor cursor, view_.OpenCursor(table_, access.index));
      cursors.push_back(std::move(cursor));
    }
    // Ids after `after_id` are those >= after_id + "\0".
    std::string candidate = after_id ? *after_id + std::string(1, '\0') : std::string();
    std::string seek;
    size_t agreeing = 0;
    for (size_t w = 0;; w = (w + 1) % n) {
      const std::string& word = access.words[w];
      seek.assign(word).append(candidate);
      ASSIGN_OR_RETURN(std::optional<std::string_view> at, cursors[w].SeekAtLeast(seek));
      if (!at || !at->starts_with(word)) return Status::OK();
      const std::string_view id = at->substr(word.size());
      if (id != candidate) {
        candidate.assign(id);
        agreeing = 1;
        continue;
      }
      if (++agreeing < n) continue;
      ASSIGN_OR_RETURN(std::string_view row, RowById(candidate));
      if (!visit(candidate, row)) return Status::OK();
      candidate.push_back('\0');  // the next id is the least one above this
      agreeing = 0;
    }
  }

  // Postings of every word, merged: all words (intersection, stops past kMaxIntersectIds) or
  // any (union); sorted ids.
  Result<std::vector<std::string>> WordIds(const Access& access) {
    if (access.all_words) {
      std::vector<std::string> ids;
      RETURN_IF_ERROR(
          ReadAllWords(access, std::nullopt, [&](std::string_view id, std::string_view) {
            ids.emplace_back(id);
            return ids.size() <= kMaxIntersectIds;
          }));
      return ids;
    }
    std::vector<std::string> result;
    bool first = true;
    for (const std::string& word : access.words) {
      std::vector<std::string> ids;
      const std::string end = PrefixEnd(word);
      RETURN_IF_ERROR(view_.ScanTree(table_, access.index, word, false,
                                     [&](std::string_view key, std::string_view id) {
                                       if (key >= end) return false;
                                       ids.emplace_back(id);
                                       return true;
                                     }));
      if (first) {
        result = std::move(ids);
        first = false;
        continue;
      }
      std::vector<std::string> merged;
      std::set_union(result.begin(), result.end(), ids.begin(), ids.end(),
                     std::back_inserter(merged));
      result = std::move(merged);
    }
    return result;
  }

  const ReadView& view_;
  uint32_t table_;
};

// Reads a plan's candidate rows: the single access, or the intersection of several.
Status ReadPlan(AccessReader& reader, const Plan& plan, const std::optional<std::string>& seek,
                const RowVisitor& visit) {
  if (plan.accesses.size() == 1) return reader.Read(plan.accesses[0], seek, visit);
  std::optional<std::vector<std::string>> ids;
  for (const Access& access : plan.accesses) {
    ASSIGN_OR_RETURN(auto more, reader.SortedIds(access));
    if (!more) continue;  // too large to be worth intersecting
    if (!ids) {
      ids = std::move(more);
      continue;
    }
    std::vector<std::string> both;
    std::set_intersection(ids->begin(), ids->end(), more->begin(), more->end(),
                          std::back_inserter(both));
    ids = std::move(both);
  }
  if (!ids) return reader.Read(plan.accesses[0], std::nullopt, visit);
  return reader.VisitIds(*ids, visit);
}

// Where an ordered access resumes for a cursor: the last row's entry in the tree it walks.
std::optional<std::string> SeekKey(const Access& access, const CursorPosition& position,
                                   const TableDefinition& table, const QuerySpec& spec) {
  if (access.kind == Access::Kind::kKeyLookup || access.kind == Access::Kind::kRowsScan ||
      access.kind == Access::Kind::kWords) {
    return position.row_id;
  }
  if (access.kind != Access::Kind::kIndexRanges) return std::nullopt;
  // Index entry = pinned prefix + the remaining index columns + row id; the remaining
  // columns are the order's columns (query_planner.cc), in the cursor.
  const IndexDefinition& index = table.indexes[access.index];
  std::string key = access.seek_prefix;
  for (size_t i = access.order_columns_from; i < index.columns.size(); ++i) {
    bool found = false;
    for (size_t t = 0; t < spec.order_by.size() && !found; ++t) {
      if (spec.order_by[t].column == index.columns[i]) {
        key += position.columns[t];
        found = true;
      }
    }
    if (!found) return std::nullopt;
  }
  if (key.size() >= kMaxIndexPart) return std::nullopt;  // entries truncated: no exact seek
  return key + position.row_id;
}

}  // namespace

Result<std::optional<std::string_view>> GetByKey(const ReadView& view, uint32_t table,
                                                 const std::vector<Value>& key) {
  const Schema& schema = view.definition(table).schema;
  std::string encoded;
  for (size_t i = 0; i < key.size(); ++i) {
    EncodeKeyValue(schema.fields[schema.primary_key[i]].type, key[i], &encoded);
  }
  return view.Get(table, encoded);
}

Status RunQuery(const ReadView& view, uint32_t table, const QuerySpec& spec,
                const std::function<bool(std::string_view row)>& visit,
                std::optional<std::string>* next_cursor) {
  constexpr uint64_t kMaxSortedWindow = 100'000;
  if (next_cursor) next_cursor->reset();
  const TableDefinition& definition = view.definition(table);
  const Schema& schema = definition.schema;
  const ResultOrder order(schema, spec.order_by);
  std::optional<CursorPosition> after;
  std::string after_key;
  if (spec.after) {
    ASSIGN_OR_RETURN(after, order.DecodeCursor(*spec.after, view.cursor_cipher(), definition.name));
    after_key = order.SortKey(*after);
  }
  if (spec.limit == 0) return Status::OK();
  ASSIGN_OR_RETURN(Plan plan, PlanQuery(view, table, spec));
  AccessReader reader(view, table);
  // Rows an exact access reads all match: they are decoded only when a cursor needs them.
  const bool filtered = spec.filter.op != FilterNode::Op::kTrue;
  const bool recheck =
      filtered && !(plan.accesses.size() == 1 && plan.accesses[0].exact && plan.fallback.empty());
  Status row_error;
  Record record;
  // Decodes and filters one candidate; false when it does not belong in the answer.
  auto accept_decoded = [&](std::string_view row) {
    auto decoded = DecodeRow(schema, row);
    if (!decoded.ok()) {
      row_error = decoded.status();
      return false;
    }
    record = std::move(*decoded);
    return !filtered || FilterMatches(spec.filter, schema, record);
  };
  // The same where rows may be taken as read (the unordered path below always decodes: it
  // sorts by every row's values).
  auto accept = [&](std::string_view row) { return (!recheck && !after) || accept_decoded(row); };

  if (plan.ordered()) {
    std::optional<std::string> seek;
    if (after) seek = SeekKey(plan.accesses[0], *after, definition, spec);
    // Rows are held until the page is complete, so a plan that reads too much can still be
    // abandoned for its fallback (index answers sorted in memory) without having sent any.
    const uint64_t budget = plan.fallback.empty()
                                ? UINT64_MAX
                                : std::max<uint64_t>(5000, 20 * (spec.skip + spec.limit));
    uint64_t read = 0, skipped = 0;
    bool more = false, over_budget = false;
    std::vector<std::pair<std::string, std::string_view>> page;  // row id, row
    RETURN_IF_ERROR(ReadPlan(reader, plan, seek, [&](std::string_view id, std::string_view row) {
      if (++read > budget) {
        over_budget = true;
        return false;
      }
      if (!accept(row)) return row_error.ok();
      if (after && order.SortKey(order.PositionOf(record, id)) <= after_key) return true;
      if (skipped < spec.skip) {
        ++skipped;
        return true;
      }
      if (page.size() == spec.limit) {
        more = true;
        return false;
      }
      page.emplace_back(id, row);
      return true;
    }));
    RETURN_IF_ERROR(row_error);
    if (!over_budget) {
      for (const auto& [id, row] : page) {
        if (!visit(row)) return Status::OK();
      }
      if (more && next_cursor && !page.empty()) {
        ASSIGN_OR_RETURN(Record last, DecodeRow(schema, page.back().second));
        *next_cursor = order.EncodeCursor(order.PositionOf(last, page.back().first),
                                          view.cursor_cipher(), definition.name);
      }
      return Status::OK();
    }
    plan.accesses = std::move(plan.fallback);
    plan.fallback.clear();
  }

  // Unordered candidates: keep the first skip + limit (+1, to know whether more follow) by
  // sort key in a bounded max-heap.
  if (spec.skip > kMaxSortedWindow) {
    return InvalidArgument("$skip: at most " + std::to_string(kMaxSortedWindow) +
                           " for this query (it is sorted after reading); page with $after");
  }
  const uint64_t window = spec.skip + std::min(spec.limit, kMaxSortedWindow) + 1;
  struct Candidate {
    std::string sort_key;
    std::string id;
    std::string_view row;
    bool operator<(const Candidate& o) const { return sort_key < o.sort_key; }
  };
  std::priority_queue<Candidate> heap;
  RETURN_IF_ERROR(
      ReadPlan(reader, plan, std::nullopt, [&](std::string_view id, std::string_view row) {
        if (!accept_decoded(row)) return row_error.ok();
        std::string key = order.SortKey(order.PositionOf(record, id));
        if (after && key <= after_key) return true;
        if (heap.size() == window && !(key < heap.top().sort_key)) return true;
        heap.push({std::move(key), std::string(id), row});
        if (heap.size() > window) heap.pop();
        return true;
      }));
  RETURN_IF_ERROR(row_error);
  std::vector<Candidate> sorted;
  sorted.reserve(heap.size());
  while (!heap.empty()) {
    sorted.push_back(std::move(const_cast<Candidate&>(heap.top())));
    heap.pop();
  }
  std::reverse(sorted.begin(), sorted.end());
  uint64_t emitted = 0;
  for (size_t i = spec.skip; i < sorted.size(); ++i) {
    if (emitted == spec.limit) {
      if (next_cursor) {
        const Candidate& last = sorted[i - 1];
        ASSIGN_OR_RETURN(Record row, DecodeRow(schema, last.row));
        *next_cursor = order.EncodeCursor(order.PositionOf(row, last.id), view.cursor_cipher(),
                                          definition.name);
      }
      break;
    }
    ++emitted;
    if (!visit(sorted[i].row)) break;
  }
  return Status::OK();
}

Result<uint64_t> CountQuery(const ReadView& view, uint32_t table, const FilterNode& filter) {
  if (filter.op == FilterNode::Op::kTrue) return view.Count(table);
  QuerySpec spec;
  spec.filter = filter;
  ASSIGN_OR_RETURN(Plan plan, PlanQuery(view, table, spec));
  const Schema& schema = view.definition(table).schema;
  AccessReader reader(view, table);
  uint64_t count = 0;
  Status row_error;
  RETURN_IF_ERROR(ReadPlan(reader, plan, std::nullopt, [&](std::string_view, std::string_view row) {
    auto record = DecodeRow(schema, row);
    if (!record.ok()) {
      row_error = record.status();
      return false;
    }
    if (FilterMatches(filter, schema, *record)) ++count;
    return true;
  }));
  RETURN_IF_ERROR(row_error);
  return count;
}

Result<uint64_t> CountPage(const ReadView& view, uint32_t table, const QuerySpec& spec) {
  if (spec.after) {
    uint64_t n = 0;
    RETURN_IF_ERROR(RunQuery(view, table, spec, [&](std::string_view) {
      ++n;
      return true;
    }));
    return n;
  }
  ASSIGN_OR_RETURN(uint64_t matches, CountQuery(view, table, spec.filter));
  return std::min(matches - std::min(matches, spec.skip), spec.limit);
}

Result<std::string> ExplainQuery(const ReadView& view, uint32_t table, const QuerySpec& spec) {
  ASSIGN_OR_RETURN(Plan plan, PlanQuery(view, table, spec, PlanPurpose::kExplain));
  return DescribePlan(view.definition(table), spec, plan);
}

}  // namespace sluice
