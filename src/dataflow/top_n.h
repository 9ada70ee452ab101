// TopN: ORDER BY ... LIMIT n OFFSET m over a statement's output. State: every input row in
// sort order (the sort key, then the whole row as a tie-break, with a copy count). After each
// batch it emits the difference between the rows in the [offset, offset + n) window before
// and after. Memory grows with the input's distinct rows, not with the number of changes.
// Owned by one thread; no locking.
#pragma once

#include <map>
#include <string>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class TopN final : public Operator {
 public:
  TopN(std::vector<BoundSelect::SortKey> keys, int64_t limit, int64_t offset, Schema schema)
      : keys_(std::move(keys)), limit_(limit), offset_(offset), schema_(std::move(schema)) {}

  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override;

 private:
  struct Entry {
    Record row;
    int64_t copies = 0;
  };
  std::string SortKey(const Record& row) const;
  // The rows inside the window, by position key, with how many copies are inside.
  std::map<std::string, int64_t> Window() const;

  std::vector<BoundSelect::SortKey> keys_;
  int64_t limit_;
  int64_t offset_;
  Schema schema_;
  std::map<std::string, Entry> rows_;
};

}  // namespace sluice
