#include "dataflow/window_assigner.h"

namespace sluice {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

void WindowAssigner::Assign(const Record& row, bool insert, std::vector<Operation>& output) const {
  const Value& time = row[spec_.time_column];
  if (time.is_null()) return;
  const int64_t t = time.as_int();
  // Windows [k * slide, k * slide + size) that contain t, earliest first.
  const int64_t last = FloorDiv(t, spec_.slide_micros);
  const int64_t first = FloorDiv(t - spec_.size_micros, spec_.slide_micros) + 1;
  for (int64_t k = first; k <= last; ++k) {
    Record out;
    out.reserve(row.size() + 2);
    if (keep_.empty()) {
      out.insert(out.end(), row.begin(), row.end());
    } else {
      for (size_t c = 0; c < row.size(); ++c) {
        if (keep_[c]) {
          out.push_back(row[c]);
        } else {
          out.emplace_back();
        }
      }
    }
    out.emplace_back(k * spec_.slide_micros);
    out.emplace_back(k * spec_.slide_micros + spec_.size_micros);
    output.push_back(insert ? Operation::Insert(std::move(out))
                            : Operation::Delete(std::move(out)));
  }
}

Status WindowAssigner::Process(const std::vector<Operation>& input,
                               std::vector<Operation>& output) {
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) Assign(op.old_record, false, output);
    if (op.kind != OpKind::kDelete) Assign(op.new_record, true, output);
  }
  return Status::OK();
}

}  // namespace sluice
