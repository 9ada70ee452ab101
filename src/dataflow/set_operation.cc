#include "dataflow/set_operation.h"

#include "types/key_codec.h"

namespace sluice {

SetOperation::Kind SetOperation::FromSetOp(SetOp op) {
  switch (op) {
    case SetOp::kUnionAll:
      return Kind::kUnionAll;
    case SetOp::kUnion:
      return Kind::kUnion;
    case SetOp::kIntersect:
      return Kind::kIntersect;
    case SetOp::kIntersectAll:
      return Kind::kIntersectAll;
    case SetOp::kExcept:
      return Kind::kExcept;
    case SetOp::kExceptAll:
      return Kind::kExceptAll;
  }
  return Kind::kUnionAll;
}

int64_t SetOperation::Multiplicity(const Counts& c) const {
  switch (kind_) {
    case Kind::kUnionAll:
      return c.left + c.right;
    case Kind::kUnion:
      return c.left + c.right > 0 ? 1 : 0;
    case Kind::kIntersect:
      return c.left > 0 && c.right > 0 ? 1 : 0;
    case Kind::kIntersectAll:
      return std::min(c.left, c.right);
    case Kind::kExcept:
      return c.left > 0 && c.right == 0 ? 1 : 0;
    case Kind::kExceptAll:
      return std::max<int64_t>(c.left - c.right, 0);
    case Kind::kDistinct:
      return c.left > 0 ? 1 : 0;
  }
  return 0;
}

void SetOperation::Apply(int side, const Record& row, int weight, std::vector<Operation>& output) {
  if (kind_ == Kind::kUnionAll) {
    output.push_back(weight > 0 ? Operation::Insert(row) : Operation::Delete(row));
    return;
  }
  // Rows are identical for set operations when every column is equal, NULLs included: the
  // key encoding gives exactly that identity.
  std::string key;
  for (size_t i = 0; i < row.size(); ++i) EncodeKeyValue(schema_.fields[i].type, row[i], &key);
  Counts& c = rows_[key];
  if (c.left == 0 && c.right == 0) c.row = row;
  const int64_t before = Multiplicity(c);
  (side == 0 ? c.left : c.right) += weight;
  const int64_t after = Multiplicity(c);
  for (int64_t i = before; i < after; ++i) output.push_back(Operation::Insert(c.row));
  for (int64_t i = after; i < before; ++i) output.push_back(Operation::Delete(c.row));
  if (c.left == 0 && c.right == 0) rows_.erase(key);
}

Status SetOperation::Process(int side, const std::vector<Operation>& input,
                             std::vector<Operation>& output) {
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) Apply(side, op.old_record, -1, output);
    if (op.kind != OpKind::kDelete) Apply(side, op.new_record, +1, output);
  }
  return Status::OK();
}

}  // namespace sluice
