// Join: one step of a statement's FROM chain — the joined row so far (left) with one more
// table (right) — maintained incrementally for INNER, LEFT, RIGHT and FULL joins on equality
// keys plus a residual condition. State per side: rows by key, each with its copy count and
// how many rows of the other side it currently matches, so outer joins know when a row gains
// its first match (retract the NULL-padded row) or loses its last (emit it again).
// Rows with a NULL key never match (SQL equality), as in PostgreSQL.
// Owned by one thread; no locking.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "sql/bound_select.h"
#include "types/operation.h"

namespace sluice {

class Join {
 public:
  enum Side { kLeft = 0, kRight = 1 };

  // `step` must outlive the join. `left` is the schema of the joined row so far. `keep`
  // (empty: all) marks the columns of the joined row that anything downstream reads; the others
  // are not copied into state or output (they stay NULL), which saves copying wide rows.
  Join(const JoinStep& step, Schema left, Schema right, std::vector<bool> keep = {});

  // Applies changes arriving on one side; appends the joined output changes.
  Status Process(Side side, const std::vector<Operation>& input, std::vector<Operation>& output);

 private:
  struct Entry {
    Record row;
    int64_t copies = 0;
    int64_t matches = 0;  // copies of the other side matching this row
  };
  using Bucket = std::unordered_map<std::string, Entry>;  // by encoded row

  Status Apply(Side side, const Record& input, int weight, std::vector<Operation>& output);
  Record Pruned(Side side, const Record& row) const;
  std::optional<std::string> Key(Side side, const Record& row) const;
  Record Joined(const Record* left, const Record* right) const;
  static void Emit(Record row, int64_t weight, std::vector<Operation>& output);
  bool Pads(Side side) const;  // does this side keep unmatched rows (NULL-padded)?

  const JoinStep& step_;
  Schema schemas_[2];
  std::vector<bool> keep_[2];  // per side: columns to keep (empty: all)
  std::unordered_map<std::string, Bucket> index_[2];
};

}  // namespace sluice
