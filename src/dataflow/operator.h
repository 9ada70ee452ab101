// Incremental operators: each consumes a batch of changes and appends the changes of its
// output — never whole tables. They compose because input and output have the same shape.
// An operator is owned and driven by one thread; it needs no locking.
#pragma once

#include <vector>

#include "common/status.h"
#include "types/operation.h"

namespace sluice {

class Operator {
 public:
  virtual ~Operator() = default;
  // Changes the operator's output starts with before any input (an aggregate without GROUP BY
  // has one row even over an empty table).
  virtual void Start(std::vector<Operation>& output) {}
  // An error (a division by zero in an expression, say) stops the statement.
  virtual Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) = 0;
};

}  // namespace sluice
