// WindowAssigner: TUMBLE and HOP. Stateless: each row is emitted once per window its time
// falls in, with window_start and window_end appended (TUMBLE: exactly one window; HOP:
// size / slide windows). A row with a NULL time is in no window.
#pragma once

#include <vector>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class WindowAssigner final : public Operator {
 public:
  // `keep` (empty: all) marks the input columns to copy; the others are left NULL.
  WindowAssigner(const WindowSpec& spec, std::vector<bool> keep)
      : spec_(spec), keep_(std::move(keep)) {}
  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  void Assign(const Record& row, bool insert, std::vector<Operation>& output) const;
  WindowSpec spec_;
  std::vector<bool> keep_;
};

}  // namespace sluice
