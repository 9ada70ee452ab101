// WindowAssigner: TUMBLE and HOP. Stateless: each row is emitted once per window its time
// falls in, with window_start and window_end appended (TUMBLE: exactly one window; HOP:
// size / slide windows). A row with a NULL time is in no window.
#pragma once

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class WindowAssigner final : public Operator {
 public:
  explicit WindowAssigner(const WindowSpec& spec) : spec_(spec) {}
  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  void Assign(const Record& row, bool insert, std::vector<Operation>& output) const;
  WindowSpec spec_;
};

}  // namespace sluice
