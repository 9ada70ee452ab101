// Join: one step of a statement's FROM chain — the joined row so far (left) with one more
// table (right) — maintained incrementally for INNER, LEFT, RIGHT and FULL joins on equality
// keys plus a residual condition. State per side: rows by key, each with its copy count and
// how many rows of the other side it currently matches, so outer joins know when a row gains
// its first match (retract the NULL-padded row) or loses its last (emit it again).
// Rows with a NULL key never match (SQL equality), as in PostgreSQL.
// Owned by one thread; no locking.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataflow/keyed_rows.h"
#include "sql/bound_select.h"
#include "types/operation.h"

namespace sluice {

class Join {
 public:
  enum Side { kLeft = 0, kRight = 1 };

  // `step` must outlive the join. `left` is the schema of the joined row so far. `keep`
  // (empty: all) marks the columns of the joined row that anything downstream reads; the others
  // are not stored in state (rows there hold only the kept columns) and stay NULL in output.
  Join(const JoinStep& step, Schema left, Schema right, std::vector<bool> keep = {});

  // Applies changes arriving on one side; appends the joined output changes.
  Status Process(Side side, const std::vector<Operation>& input, std::vector<Operation>& output);

 private:
  Status Apply(Side side, const Record& input, int weight, std::vector<Operation>& output);
  // A side's row with only the kept columns (what state holds), and back to full width
  // (appended to `out`, the others NULL).
  Record Pruned(Side side, const Record& row) const;
  void Unprune(Side side, const Record& row, Record& out) const;
  // Encodes the row's join key into `key`; false when it has a NULL key (never matches).
  bool Key(Side side, const Record& row, std::string& key) const;
  Record Joined(const Record* left, const Record* right) const;
  static void Emit(Record row, int64_t weight, std::vector<Operation>& output);
  bool Pads(Side side) const;  // does this side keep unmatched rows (NULL-padded)?

  const JoinStep& step_;
  Schema schemas_[2];
  std::vector<size_t> kept_[2];           // per side: the columns kept, in order
  bool pruned_[2] = {false, false};       // does a side drop any column?
  bool convert_key_[2] = {false, false};  // does a key column need a cast to its key type?
  KeyedRows rows_[2];
  std::string key_;  // scratch, reused per change
};

}  // namespace sluice
