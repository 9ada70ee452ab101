// The operator chain that computes one bound statement: a MapFilter (WHERE and the select
// list), or for aggregated statements a MapFilter for WHERE in front of an Aggregate.
#pragma once

#include <memory>
#include <vector>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

struct StatementOperators {
  std::vector<ExprPtr> owned;  // expressions the chain refers to beyond the plan's own
  std::vector<std::unique_ptr<Operator>> chain;

  void Start(std::vector<Operation>& output);
  // Runs `input` through the chain, appending the statement's output changes.
  Status Process(std::vector<Operation> input, std::vector<Operation>& output);
};

// `plan` must outlive the result.
StatementOperators BuildStatementOperators(const BoundSelect& plan);

}  // namespace sluice
