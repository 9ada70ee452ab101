#include "dataflow/semi_join.h"

#include "sql/functions.h"
#include "types/key_codec.h"

namespace sluice {
namespace {

const std::string kNullKey("\0", 1);

void Emit(const Record& row, int64_t weight, std::vector<Operation>& output) {
  for (int64_t i = 0; i < weight; ++i) output.push_back(Operation::Insert(row));
  for (int64_t i = 0; i > weight; --i) output.push_back(Operation::Delete(row));
}

}  // namespace

Result<std::optional<std::string>> SemiJoin::LeftKey(const Record& row) const {
  std::string key = "k";
  for (size_t i = 0; i < spec_.left_keys.size(); ++i) {
    ASSIGN_OR_RETURN(Value v, spec_.left_keys[i]->Eval(row));
    if (v.is_null()) return std::optional<std::string>();
    ASSIGN_OR_RETURN(Value c, ConvertValue(spec_.left_keys[i]->type(), spec_.key_types[i], v));
    EncodeKeyValue(spec_.key_types[i], c, &key);
  }
  return std::optional<std::string>(key);
}

std::optional<std::string> SemiJoin::RightKey(const Record& row) const {
  std::string key = "k";
  for (size_t i = 0; i < spec_.key_types.size(); ++i) {
    if (row[i].is_null()) return std::nullopt;
    auto c = ConvertValue(spec_.right_schema.fields[i].type, spec_.key_types[i], row[i]);
    if (!c.ok()) return std::nullopt;
    EncodeKeyValue(spec_.key_types[i], *c, &key);
  }
  return key;
}

SemiJoin::RightState SemiJoin::StateFor(const std::optional<std::string>& key) const {
  RightState s{right_total_, right_nulls_, 0};
  if (key) {
    auto it = right_counts_.find(*key);
    if (it != right_counts_.end()) s.matches = it->second;
  }
  return s;
}

bool SemiJoin::Passes(const std::optional<std::string>& key, const RightState& s) const {
  const bool keyless = spec_.left_keys.empty();  // uncorrelated EXISTS
  const bool found = keyless ? s.total > 0 : (key && s.matches > 0);
  switch (spec_.kind) {
    case SemiJoinSpec::Kind::kSemi:
      return found;
    case SemiJoinSpec::Kind::kAnti:
      return !found;
    case SemiJoinSpec::Kind::kNotIn:
      return s.total == 0 || (key && s.matches == 0 && s.nulls == 0);
  }
  return false;
}

Status SemiJoin::ApplyLeft(const Record& row, int weight, std::vector<Operation>& output) {
  ASSIGN_OR_RETURN(auto key, LeftKey(row));
  if (Passes(key, StateFor(key))) Emit(row, weight, output);
  std::string encoded;
  for (size_t i = 0; i < row.size(); ++i) EncodeKeyValue(left_.fields[i].type, row[i], &encoded);
  auto& bucket = left_rows_[key ? *key : kNullKey];
  Entry& e = bucket[encoded];
  if (e.copies == 0) e.row = row;
  e.copies += weight;
  if (e.copies <= 0) {
    bucket.erase(encoded);
    if (bucket.empty()) left_rows_.erase(key ? *key : kNullKey);
  }
  return Status::OK();
}

void SemiJoin::ApplyRight(const Record& row, int weight, std::vector<Operation>& output) {
  auto key = RightKey(row);
  const int64_t total_before = right_total_, nulls_before = right_nulls_;
  const int64_t matches_before = key ? right_counts_[*key] : 0;
  right_total_ += weight;
  if (key) {
    right_counts_[*key] += weight;
  } else {
    right_nulls_ += weight;
  }
  // Which left rows can this change? Those with this key; for NOT IN and uncorrelated
  // EXISTS, every row when the subquery became empty or non-empty or gained/lost its NULLs.
  const bool global = spec_.left_keys.empty() || spec_.kind == SemiJoinSpec::Kind::kNotIn;
  auto redecide = [&](const std::string& bucket_key, const std::map<std::string, Entry>& bucket) {
    std::optional<std::string> left_key;
    if (bucket_key != kNullKey) left_key = bucket_key;
    RightState before{total_before, nulls_before, 0}, after{right_total_, right_nulls_, 0};
    if (left_key) {
      auto it = right_counts_.find(*left_key);
      after.matches = it == right_counts_.end() ? 0 : it->second;
      before.matches = key && *key == *left_key ? matches_before : after.matches;
    }
    bool was = Passes(left_key, before), is = Passes(left_key, after);
    if (was == is) return;
    for (const auto& [encoded, entry] : bucket)
      Emit(entry.row, is ? entry.copies : -entry.copies, output);
  };
  if (global) {
    for (const auto& [bucket_key, bucket] : left_rows_) redecide(bucket_key, bucket);
  } else if (key) {
    auto it = left_rows_.find(*key);
    if (it != left_rows_.end()) redecide(it->first, it->second);
  }
  if (key && right_counts_[*key] == 0) right_counts_.erase(*key);
}

Status SemiJoin::Process(Side side, const std::vector<Operation>& input,
                         std::vector<Operation>& output) {
  for (const Operation& op : input) {
    if (side == kLeft) {
      if (op.kind != OpKind::kInsert) RETURN_IF_ERROR(ApplyLeft(op.old_record, -1, output));
      if (op.kind != OpKind::kDelete) RETURN_IF_ERROR(ApplyLeft(op.new_record, +1, output));
    } else {
      if (op.kind != OpKind::kInsert) ApplyRight(op.old_record, -1, output);
      if (op.kind != OpKind::kDelete) ApplyRight(op.new_record, +1, output);
    }
  }
  return Status::OK();
}

}  // namespace sluice
