#include "dataflow/join.h"

#include "sql/functions.h"
#include "types/key_codec.h"

namespace sluice {

Join::Join(const JoinStep& step, Schema left, Schema right, std::vector<bool> keep) : step_(step) {
  schemas_[kLeft] = std::move(left);
  schemas_[kRight] = std::move(right);
  if (!keep.empty()) {
    const size_t left_width = schemas_[kLeft].fields.size();
    for (size_t c = 0; c < keep.size(); ++c) {
      if (!keep[c]) continue;
      if (c < left_width) {
        kept_[kLeft].push_back(c);
      } else {
        kept_[kRight].push_back(c - left_width);
      }
    }
    pruned_[kLeft] = kept_[kLeft].size() < left_width;
    pruned_[kRight] = kept_[kRight].size() < schemas_[kRight].fields.size();
  }
  for (int side = 0; side < 2; ++side) {
    const auto& columns = side == kLeft ? step_.left_keys : step_.right_keys;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (schemas_[side].fields[columns[i]].type != step_.key_types[i]) convert_key_[side] = true;
    }
  }
}

Record Join::Pruned(Side side, const Record& row) const {
  if (!pruned_[side]) return row;
  Record out;
  out.reserve(kept_[side].size());
  for (size_t c : kept_[side]) out.push_back(row[c]);
  return out;
}

void Join::Unprune(Side side, const Record& row, Record& out) const {
  const size_t offset = out.size();
  out.resize(offset + schemas_[side].fields.size());
  if (!pruned_[side]) {
    std::copy(row.begin(), row.end(), out.begin() + long(offset));
    return;
  }
  for (size_t i = 0; i < kept_[side].size(); ++i) out[offset + kept_[side][i]] = row[i];
}

bool Join::Pads(Side side) const {
  if (step_.type == JoinType::kFull) return true;
  return side == kLeft ? step_.type == JoinType::kLeft : step_.type == JoinType::kRight;
}

bool Join::Key(Side side, const Record& row, std::string& key) const {
  const auto& columns = side == kLeft ? step_.left_keys : step_.right_keys;
  key.clear();
  for (size_t i = 0; i < columns.size(); ++i) {
    const Value& v = row[columns[i]];
    if (v.is_null()) return false;
    if (!convert_key_[side]) {
      EncodeKeyValue(step_.key_types[i], v, &key);
      continue;
    }
    FieldType from = schemas_[side].fields[columns[i]].type;
    auto converted = ConvertValue(from, step_.key_types[i], v);
    if (!converted.ok()) return false;
    EncodeKeyValue(step_.key_types[i], *converted, &key);
  }
  return true;
}

Record Join::Joined(const Record* left, const Record* right) const {
  Record out;
  out.reserve(schemas_[kLeft].fields.size() + schemas_[kRight].fields.size());
  if (left) {
    Unprune(kLeft, *left, out);
  } else {
    out.resize(schemas_[kLeft].fields.size());
  }
  if (right) {
    Unprune(kRight, *right, out);
  } else {
    out.resize(out.size() + schemas_[kRight].fields.size());
  }
  return out;
}

void Join::Emit(Record row, int64_t weight, std::vector<Operation>& output) {
  for (int64_t i = 1; i < weight; ++i) output.push_back(Operation::Insert(row));
  for (int64_t i = -1; i > weight; --i) output.push_back(Operation::Delete(row));
  if (weight > 0) output.push_back(Operation::Insert(std::move(row)));
  if (weight < 0) output.push_back(Operation::Delete(std::move(row)));
}

Status Join::Apply(Side side, const Record& input, int weight, std::vector<Operation>& output) {
  const bool has_key = Key(side, input, key_);  // before pruning: keys index the full row
  Record row = Pruned(side, input);
  const Side other = side == kLeft ? kRight : kLeft;
  int64_t matched = 0;
  if (const KeyedRows::Ids* ids = has_key ? rows_[other].Find(key_) : nullptr) {
    for (uint32_t id : *ids) {
      KeyedRows::Entry& entry = rows_[other].entry(id);
      Record joined = side == kLeft ? Joined(&row, &entry.row) : Joined(&entry.row, &row);
      if (step_.residual) {
        ASSIGN_OR_RETURN(Value pass, step_.residual->Eval(joined));
        if (!IsTrue(pass)) continue;
      }
      Emit(std::move(joined), int64_t(weight) * entry.copies, output);
      matched += entry.copies;
      if (Pads(other)) {
        const int64_t before = entry.matches;
        entry.matches += weight;
        Record padded = other == kLeft ? Joined(&entry.row, nullptr) : Joined(nullptr, &entry.row);
        if (before == 0 && entry.matches > 0) Emit(padded, -entry.copies, output);
        if (before > 0 && entry.matches == 0) Emit(padded, entry.copies, output);
      }
    }
  }
  if (Pads(side) && matched == 0) {
    Emit(side == kLeft ? Joined(&row, nullptr) : Joined(nullptr, &row), weight, output);
  }
  if (!has_key) return Status::OK();  // never matches: nothing to remember
  rows_[side].Add(key_, std::move(row), weight, matched);
  return Status::OK();
}

Status Join::Process(Side side, const std::vector<Operation>& input,
                     std::vector<Operation>& output) {
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) RETURN_IF_ERROR(Apply(side, op.old_record, -1, output));
    if (op.kind != OpKind::kDelete) RETURN_IF_ERROR(Apply(side, op.new_record, +1, output));
  }
  return Status::OK();
}

}  // namespace sluice
