// Aggregate: GROUP BY with COUNT/SUM/AVG/MIN/MAX/BOOL_AND/BOOL_OR (+ FILTER), HAVING and the
// select list over the groups, maintained incrementally under inserts, updates and deletes.
// State per group: the aggregates' running state (MIN/MAX keep a multiset of values, so
// deleting the current extreme is exact). For each input batch it emits, per touched group,
// the change between the group's output row before and after the batch. Without GROUP BY
// there is always exactly one row, also over empty input.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class Aggregate final : public Operator {
 public:
  // `plan` (an aggregated statement) must outlive the operator; its WHERE is applied by a
  // MapFilter in front, so the input here is the filtered input rows.
  explicit Aggregate(const BoundSelect& plan);
  ~Aggregate() override;

  void Start(std::vector<Operation>& output) override;
  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

  size_t group_count() const { return groups_.size(); }

 private:
  struct Group;
  std::unique_ptr<Group> NewGroup(std::string encoded, Record keys) const;
  // The group of `row`, created if new; its encoded key is left in key_.
  Result<Group*> GroupOf(const Record& row);
  Status Apply(const Record& row, int weight, std::vector<Group*>& touched);
  Result<std::optional<Record>> Output(const Group& group) const;
  Status EmitChange(Group& group, std::vector<Operation>& output);

  const BoundSelect& plan_;
  std::vector<std::optional<size_t>> key_columns_;  // per group key: its column, if a plain one
  absl::flat_hash_map<std::string, std::unique_ptr<Group>> groups_;
  std::string key_;  // scratch, reused per row
};

// Shared by the aggregating operators. HAVING and the select list over an aggregate row
// ([group keys..., aggregates...]): the output row, or nullopt when HAVING rejects it.
Result<std::optional<Record>> ProjectAggregateRow(const BoundSelect& plan, const Record& agg_row);
// Appends the change from output row `before` to `after` (either may be absent).
void AppendRowChange(const std::optional<Record>& before, const std::optional<Record>& after,
                     std::vector<Operation>& output);

}  // namespace sluice
