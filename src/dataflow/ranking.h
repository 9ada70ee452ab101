// Ranking: row_number(), rank() and dense_rank() OVER (PARTITION BY ... ORDER BY ...), then
// the select list over [input row..., rank values...]. State per partition: its rows in
// order with copy counts. A batch re-ranks only the partitions it touched and emits the
// difference of their output rows (a change near the top of a big partition shifts every
// rank below it: cost grows with the partition, which the top-n-per-group pattern keeps small
// downstream by filtering on the rank).
// Owned by one thread; no locking.
#pragma once

#include <map>
#include <string>
#include <unordered_map>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class Ranking final : public Operator {
 public:
  // `plan` (with `ranking`) must outlive the operator.
  explicit Ranking(const BoundSelect& plan) : plan_(plan) {
    for (const auto& f : plan.output_schema.fields) output_types_.push_back(f.type);
  }

  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  struct Entry {
    Record row;
    std::string order_key;  // peers share it
    int64_t copies = 0;
  };
  using Partition = std::map<std::string, Entry>;  // order key + row tie-break -> entry

  Status Apply(const Record& row, int weight, std::vector<std::string>& touched,
               std::unordered_map<std::string, std::map<std::string, int64_t>>& before);
  // The partition's output rows (projected), as encoded row -> copies, plus the rows.
  Status Outputs(const Partition& partition, std::map<std::string, int64_t>& counts,
                 std::map<std::string, Record>* rows) const;

  const BoundSelect& plan_;
  std::vector<FieldType> output_types_;  // to rebuild retracted output rows from their keys
  std::unordered_map<std::string, Partition> partitions_;
};

}  // namespace sluice
