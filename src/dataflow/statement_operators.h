// The operators that compute one bound statement: the joins of its FROM chain (one per extra
// table), then a MapFilter (WHERE and the select list), or for aggregated statements a
// MapFilter for WHERE in front of an Aggregate.
#pragma once

#include <memory>
#include <vector>

#include "dataflow/join.h"
#include "dataflow/operator.h"
#include "dataflow/semi_join.h"
#include "dataflow/set_operation.h"
#include "sql/bound_select.h"

namespace sluice {

struct StatementOperators {
  std::vector<ExprPtr> owned;  // expressions the chain refers to beyond the plan's own
  std::vector<std::unique_ptr<Join>> joins;  // joins[i]: inputs[0..i] with inputs[i + 1]
  std::unique_ptr<SetOperation> set;         // set operations: side = slot
  std::vector<std::unique_ptr<SemiJoin>> semi_joins;  // slot inputs.size() + i: right of i
  size_t from_inputs = 0;
  std::vector<std::unique_ptr<Operator>> chain;

  void Start(std::vector<Operation>& output);
  // Runs changes of FROM input `slot` through the statement, appending its output changes.
  Status Process(size_t slot, std::vector<Operation> input, std::vector<Operation>& output);
  Status Process(std::vector<Operation> input, std::vector<Operation>& output) {
    return Process(0, std::move(input), output);
  }
};

// `plan` must outlive the result.
StatementOperators BuildStatementOperators(const BoundSelect& plan);

}  // namespace sluice
