// SemiJoin: a row of the left input passes when the right input (a subquery's rows) does or
// does not contain its key — EXISTS / IN (semi), NOT EXISTS (anti) and NOT IN (anti with SQL's
// NULL rules: nothing passes once the subquery holds a NULL, everything passes while it is
// empty). State: left rows by key with copy counts, right key counts. A right change
// re-decides only the left rows it can affect.
// Owned by one thread; no locking.
#pragma once

#include <map>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "sql/bound_select.h"
#include "types/operation.h"

namespace sluice {

class SemiJoin {
 public:
  enum Side { kLeft = 0, kRight = 1 };

  // `spec` must outlive the join; `left` is the schema of the rows being filtered.
  SemiJoin(const SemiJoinSpec& spec, Schema left) : spec_(spec), left_(std::move(left)) {}

  Status Process(Side side, const std::vector<Operation>& input, std::vector<Operation>& output);

 private:
  struct Entry {
    Record row;
    int64_t copies = 0;
  };
  struct RightState {
    int64_t total = 0;
    int64_t nulls = 0;
    int64_t matches = 0;  // of one key
  };
  Result<std::optional<std::string>> LeftKey(const Record& row) const;
  std::optional<std::string> RightKey(const Record& row) const;
  bool Passes(const std::optional<std::string>& key, const RightState& state) const;
  RightState StateFor(const std::optional<std::string>& key) const;
  Status ApplyLeft(const Record& row, int weight, std::vector<Operation>& output);
  void ApplyRight(const Record& row, int weight, std::vector<Operation>& output);

  const SemiJoinSpec& spec_;
  Schema left_;
  // Left rows by key ("" + key for a key, "\0" for a NULL key), then by encoded row.
  std::unordered_map<std::string, std::map<std::string, Entry>> left_rows_;
  std::unordered_map<std::string, int64_t> right_counts_;
  int64_t right_total_ = 0;
  int64_t right_nulls_ = 0;
};

}  // namespace sluice
