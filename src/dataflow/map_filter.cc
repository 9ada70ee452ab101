#include "dataflow/map_filter.h"

namespace sluice {

Result<std::optional<Record>> MapFilter::Apply(const Record& row) const {
  if (filter_) {
    ASSIGN_OR_RETURN(Value pass, filter_->Eval(row));
    if (!IsTrue(pass)) return std::optional<Record>();
  }
  Record out;
  out.reserve(projections_.size());
  for (const Expr* e : projections_) {
    if (!e) {
      out.emplace_back();  // a column nothing downstream reads
      continue;
    }
    ASSIGN_OR_RETURN(Value v, e->Eval(row));
    out.push_back(std::move(v));
  }
  return std::optional<Record>(std::move(out));
}

Status MapFilter::Process(const std::vector<Operation>& input, std::vector<Operation>& output) {
  for (const Operation& op : input) {
    std::optional<Record> old_row, new_row;
    if (op.kind != OpKind::kInsert) {
      ASSIGN_OR_RETURN(old_row, Apply(op.old_record));
    }
    if (op.kind != OpKind::kDelete) {
      ASSIGN_OR_RETURN(new_row, Apply(op.new_record));
    }
    if (old_row && new_row) {
      if (!IdenticalRecords(*old_row, *new_row))
        output.push_back(Operation::Update(std::move(*old_row), std::move(*new_row)));
    } else if (old_row) {
      output.push_back(Operation::Delete(std::move(*old_row)));
    } else if (new_row) {
      output.push_back(Operation::Insert(std::move(*new_row)));
    }
  }
  return Status::OK();
}

}  // namespace sluice
