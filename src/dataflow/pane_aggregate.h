// PaneAggregate: COUNT aggregates grouped by a HOP window, computed from panes. A HOP of size
// S sliding by s puts every row in S/s windows; instead of updating S/s groups per row, rows
// are counted per pane (the slide-wide slice their time falls in: a TUMBLE by s), and a
// window's counts are the sums of its S/s panes, recomputed only for windows whose panes a
// batch touched. The output is exactly the Aggregate's over the HOP (same rows, same column
// order); DataflowGraph substitutes it when the plan allows (see CanUsePanes).
// Owned by one thread; no locking.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/node_hash_map.h>

#include <optional>
#include <string>
#include <vector>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class PaneAggregate final : public Operator {
 public:
  // `plan` aggregates the output of `window` (a HOP statement); both must outlive the operator
  // and CanUsePanes(window, plan) must hold. Input rows are TUMBLE(slide) rows: window_start is
  // the pane's start.
  PaneAggregate(const WindowSpec& window, size_t window_input_width, const BoundSelect& plan);

  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  struct Pane {
    int64_t rows = 0;
    std::vector<int64_t> counts;  // per aggregate
  };
  struct Window {
    std::string prefix;  // the encoded group keys without the window column
    Record keys;         // the same, as values
    int64_t start = 0;
    std::optional<Record> emitted;
    bool touched = false;
  };
  // `prefix` + the encoded pane or window start, into key_.
  const std::string& KeyOf(const std::string& prefix, int64_t start);
  Result<std::optional<Record>> Output(const Window& window);

  const WindowSpec window_;
  const BoundSelect& plan_;
  size_t window_key_ = 0;        // which group key is the window column
  bool key_is_end_ = false;      // window_end rather than window_start
  size_t pane_column_ = 0;       // the input column holding the pane's start
  std::vector<size_t> columns_;  // per group key: its input column
  absl::flat_hash_map<std::string, Pane> panes_;
  absl::node_hash_map<std::string, Window> windows_;  // nodes stay put: touched lists point in
  std::string key_;                                   // scratch
};

// Whether `plan` (reading only the HOP statement `window`) can run as a PaneAggregate: no WHERE,
// joins or subqueries; group keys are plain columns, exactly one of them window_start or
// window_end;
// aggregates are COUNT(*) or COUNT(column) without FILTER.
bool CanUsePanes(const BoundSelect& window, const BoundSelect& plan);

}  // namespace sluice
