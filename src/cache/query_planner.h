// Chooses how a query reads the cache (cache-internal; query.h runs the plans).
// A plan is one access path, or several whose row ids are intersected:
//   key lookup   every primary-key column pinned by $eq/$in
//   rows scan    the table in primary-key (or insertion) order, maybe reversed
//   index ranges a sorted index: $eq/$in on its leading columns, then a range or $prefix
//                (or no predicate at all when the index gives the requested order)
//   words        a full-text index: postings of $contains (all) / $matches_any (any) words
// The filter is always re-checked on every row read, so a plan only has to return a superset
// of the answer. Estimates come from counting index entries, capped at kEstimateCap.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "cache/query_spec.h"
#include "common/status.h"

namespace sluice {

constexpr uint64_t kEstimateCap = 1000;

struct KeyRange {
  std::string lo;  // inclusive
  std::string hi;  // exclusive; empty = unbounded
};

struct Access {
  enum class Kind { kKeyLookup, kRowsScan, kIndexRanges, kWords };
  Kind kind = Kind::kRowsScan;
  int index = kRows;
  std::vector<std::string> keys = {};   // kKeyLookup: encoded primary keys, ascending
  std::vector<KeyRange> ranges = {};    // kIndexRanges
  std::string seek_prefix = {};         // kIndexRanges with one range: the pinned columns' encoding
  size_t order_columns_from = 0;        // index columns after the pinned ones
  std::vector<std::string> words = {};  // kWords (entry prefixes)
  bool all_words = true;
  bool reverse = false;
  bool ordered = false;  // yields rows in the query's requested order
  uint64_t estimate = 0;
  bool estimate_capped = false;
  // Reads exactly the rows the filter matches, so they need no re-check (the filter is
  // equalities on the pinned columns and at most one range or $prefix on the next).
  bool exact = false;
};

struct Plan {
  std::vector<Access> accesses;  // one, or several to intersect (then unordered)
  // For an ordered access chosen on a hunch (every estimate capped): what to run instead if
  // streaming reads too many rows without filling the page.
  std::vector<Access> fallback;
  bool ordered() const { return accesses.size() == 1 && accesses[0].ordered; }
  uint64_t estimate() const;
};

// kExecute may leave estimates out where they cannot change the choice; kExplain shows them.
enum class PlanPurpose { kExecute, kExplain };
Result<Plan> PlanQuery(const ReadView& view, uint32_t table, const QuerySpec& spec,
                       PlanPurpose purpose = PlanPurpose::kExecute);

// The plan as JSON (for POST {path}/explain).
std::string DescribePlan(const TableDefinition& table, const QuerySpec& spec, const Plan& plan);

// The smallest string greater than every string starting with `prefix` ("" if none).
std::string PrefixEnd(std::string prefix);

}  // namespace sluice
