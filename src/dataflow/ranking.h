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
  explicit Ranking(const BoundSelect& plan) : plan_(plan) {}

  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  struct Entry {
    Record row;
    std::string order_key;  // peers share it
    int64_t copies = 0;
  };
  using Partition = std::map<std::string, Entry>;  // order key + row tie-break -> entry
  // A partition's output rows (projected) by their exact bytes (EncodeRow), with copies. Not by
  // the key encoding, which folds equal values (20 and 20.00): a retraction must name exactly
  // the row that was emitted, as the cache matches rows by their bytes.
  struct OutputRow {
    Record row;
    int64_t copies = 0;
  };
  using Outputs = std::map<std::string, OutputRow>;

  Status Apply(const Record& row, int weight, std::vector<std::string>& touched,
               std::unordered_map<std::string, Outputs>& before);
  Status OutputsOf(const Partition& partition, Outputs& out) const;

  const BoundSelect& plan_;
  std::unordered_map<std::string, Partition> partitions_;
};

}  // namespace sluice
