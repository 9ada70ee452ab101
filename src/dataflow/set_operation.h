// SetOperation: UNION [ALL], INTERSECT [ALL], EXCEPT [ALL] over two inputs, and DISTINCT over
// one (side 0). State: each distinct row with its copy count on either side; the output
// multiplicity is a function of the two counts (e.g. EXCEPT: left > 0 and right == 0), and a
// change emits the difference the counts made. UNION ALL keeps no state.
// Owned by one thread; no locking.
#pragma once

#include <string>
#include <unordered_map>

#include "dataflow/operator.h"
#include "sql/bound_select.h"

namespace sluice {

class SetOperation final : public Operator {
 public:
  enum class Kind { kUnionAll, kUnion, kIntersect, kIntersectAll, kExcept, kExceptAll, kDistinct };

  SetOperation(Kind kind, Schema schema) : kind_(kind), schema_(std::move(schema)) {}
  static Kind FromSetOp(SetOp op);

  // DISTINCT, as an Operator on side 0.
  Status Process(const std::vector<Operation>& input, std::vector<Operation>& output) override {
    return Process(0, input, output);
  }
  Status Process(int side, const std::vector<Operation>& input, std::vector<Operation>& output);

 private:
  struct Counts {
    Record row;
    int64_t left = 0, right = 0;
  };
  int64_t Multiplicity(const Counts& c) const;
  void Apply(int side, const Record& row, int weight, std::vector<Operation>& output);

  Kind kind_;
  Schema schema_;
  std::unordered_map<std::string, Counts> rows_;
};

}  // namespace sluice
