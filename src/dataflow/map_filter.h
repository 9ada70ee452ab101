// MapFilter: WHERE and the select list of a statement without aggregation. Stateless: a
// change's old and new rows are filtered and projected independently; an update whose new
// row no longer passes the filter becomes a delete, and so on.
#pragma once

#include <vector>

#include "dataflow/operator.h"
#include "sql/expr.h"

namespace sluice {

class MapFilter final : public Operator {
 public:
  // `filter` may be null; `projections` are not owned and must outlive the operator. A null
  // projection is a column nothing downstream reads: it is left NULL.
  MapFilter(const Expr* filter, std::vector<const Expr*> projections)
      : filter_(filter), projections_(std::move(projections)) {}

  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  // The projected row if `row` passes the filter, else nullopt.
  Result<std::optional<Record>> Apply(const Record& row) const;

  const Expr* filter_;
  std::vector<const Expr*> projections_;
};

}  // namespace sluice
