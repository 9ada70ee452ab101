// The operators that compute one bound statement, as a line of stages: the joins of its FROM
// chain, the semi joins of its WHERE subqueries, then the MapFilter (WHERE and the select
// list) or, for aggregating and ranking statements, a WHERE filter and the Aggregate or
// Ranking, then DISTINCT and top-n. A set operation is a single two-input stage.
//
// Each stage has one or two inputs (sides). Side 0 of stage i + 1 is the output of stage i;
// the statement's input slots (its FROM tables, then its subqueries) enter at `entry[slot]`.
// The pipeline runs every stage on its own thread; Process() runs them in line on the
// caller's thread (tests, benchmarks).
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sql/bound_select.h"
#include "types/operation.h"

namespace sluice {

class Stage {
 public:
  virtual ~Stage() = default;
  // Changes the stage's output starts with (the one row of an aggregate without GROUP BY).
  virtual void Start(std::vector<Operation>& output) {}
  virtual Status Process(int side, const std::vector<Operation>& input,
                         std::vector<Operation>& output) = 0;
  virtual const char* name() const = 0;
  // Every input has delivered everything of `epoch` and nothing later: the point where the
  // stage's state is consistent with the epoch's source positions.
  virtual void OnBarrier(uint64_t epoch) {}
  // Whether the stage keeps state between batches that is a function of the multiset of rows
  // its inputs delivered (joins, aggregates, DISTINCT, top-n ...): the graph checkpoints
  // those rows, and restores the stage by feeding them back (dataflow_graph.h).
  virtual bool keeps_state() const { return false; }
};

struct StatementOperators {
  std::vector<ExprPtr> owned;  // expressions the stages refer to beyond the plan's own
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<std::pair<size_t, int>> entry;  // per input slot: stage and side

  void Start(std::vector<Operation>& output);
  // Runs changes of input `slot` through the statement, appending its output changes.
  Status Process(size_t slot, std::vector<Operation> input, std::vector<Operation>& output);
  Status Process(std::vector<Operation> input, std::vector<Operation>& output) {
    return Process(0, std::move(input), output);
  }
};

// `plan` must outlive the result. `used_outputs` (empty: all) marks the output columns anything
// downstream reads; the operators may leave the others NULL and skip what computes only them.
StatementOperators BuildStatementOperators(const BoundSelect& plan,
                                           const std::vector<bool>& used_outputs = {});

// Pane-based HOP aggregation (pane_aggregate.h), for a HOP statement `window` whose only
// reader `plan` passes CanUsePanes: the window statement assigns rows to panes only, and the
// reader aggregates panes into windows.
StatementOperators BuildPaneWindowOperators(const BoundSelect& window,
                                            const std::vector<bool>& used_outputs);
StatementOperators BuildPaneAggregateOperators(const BoundSelect& window, const BoundSelect& plan);

// Column pruning across statements. Which columns of the statement's input row (its joined
// FROM row; a window statement's input table) its operators read when only `used` outputs are
// read downstream (empty: all); an empty result means all of them.
std::vector<bool> InputColumnsRead(const BoundSelect& plan, const std::vector<bool>& used);
// The same for one input slot (a FROM table or a WHERE subquery) in that table's columns.
std::vector<bool> SlotColumnsRead(const BoundSelect& plan, size_t slot,
                                  const std::vector<bool>& used);

}  // namespace sluice
