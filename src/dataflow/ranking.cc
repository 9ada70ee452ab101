#include "dataflow/ranking.h"

#include "types/key_codec.h"

namespace sluice {
namespace {

std::string EncodeRecord(const Schema& schema, const Record& row) {
  std::string key;
  for (size_t i = 0; i < row.size(); ++i) EncodeKeyValue(schema.fields[i].type, row[i], &key);
  return key;
}

}  // namespace

Status Ranking::Outputs(const Partition& partition, std::map<std::string, int64_t>& counts,
                        std::map<std::string, Record>* rows) const {
  using Function = BoundSelect::RankingSpec::Function;
  const auto& spec = *plan_.ranking;
  int64_t position = 0, rank = 0, dense = 0;
  const std::string* previous = nullptr;
  for (const auto& [key, entry] : partition) {
    bool new_peer_group = !previous || *previous != entry.order_key;
    for (int64_t copy = 0; copy < entry.copies; ++copy) {
      ++position;
      if (new_peer_group && copy == 0) {
        rank = position;
        ++dense;
      }
      Record extended = entry.row;
      for (Function f : spec.functions) {
        extended.emplace_back(f == Function::kRowNumber ? position
                              : f == Function::kRank    ? rank
                                                        : dense);
      }
      Record out;
      for (const auto& p : plan_.projections) {
        ASSIGN_OR_RETURN(Value v, p->Eval(extended));
        out.push_back(std::move(v));
      }
      std::string encoded = EncodeRecord(plan_.output_schema, out);
      ++counts[encoded];
      if (rows) (*rows)[encoded] = std::move(out);
    }
    previous = &entry.order_key;
  }
  return Status::OK();
}

Status Ranking::Apply(const Record& row, int weight, std::vector<std::string>& touched,
                      std::unordered_map<std::string, std::map<std::string, int64_t>>& before) {
  const auto& spec = *plan_.ranking;
  std::string partition_key;
  for (const auto& p : spec.partition_by) {
    ASSIGN_OR_RETURN(Value v, p->Eval(row));
    EncodeKeyValue(p->type(), v, &partition_key);
  }
  std::string order_key;
  for (const auto& o : spec.order_by) {
    ASSIGN_OR_RETURN(Value v, o.expr->Eval(row));
    order_key.push_back(v.is_null() == o.nulls_first ? char(0) : char(1));
    if (v.is_null()) continue;
    std::string value;
    EncodeKeyValue(o.expr->type(), v, &value);
    if (o.descending) {
      for (char& c : value) c = char(~static_cast<unsigned char>(c));
    }
    order_key += value;
  }
  Partition& partition = partitions_[partition_key];
  if (!before.count(partition_key)) {
    touched.push_back(partition_key);
    RETURN_IF_ERROR(Outputs(partition, before[partition_key], nullptr));
  }
  std::string key = order_key + EncodeRecord(plan_.input_schema, row);
  Entry& e = partition[key];
  if (e.copies == 0) {
    e.row = row;
    e.order_key = order_key;
  }
  e.copies += weight;
  if (e.copies <= 0) partition.erase(key);
  return Status::OK();
}

Status Ranking::Process(const std::vector<Operation>& input, std::vector<Operation>& output) {
  std::vector<std::string> touched;
  std::unordered_map<std::string, std::map<std::string, int64_t>> before;
  std::unordered_map<std::string, std::map<std::string, Record>> before_rows;
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) RETURN_IF_ERROR(Apply(op.old_record, -1, touched, before));
    if (op.kind != OpKind::kDelete) RETURN_IF_ERROR(Apply(op.new_record, +1, touched, before));
  }
  for (const std::string& key : touched) {
    // Output rows that went away are rebuilt from their key encoding (it round-trips).
    std::map<std::string, int64_t> after;
    std::map<std::string, Record> after_rows;
    auto it = partitions_.find(key);
    if (it != partitions_.end()) RETURN_IF_ERROR(Outputs(it->second, after, &after_rows));
    const auto& old = before[key];
    for (const auto& [encoded, copies] : old) {
      auto now = after.find(encoded);
      int64_t n = now == after.end() ? 0 : now->second;
      if (n >= copies) continue;
      auto decoded = DecodeKey(output_types_, encoded);
      if (!decoded.ok()) return decoded.status();
      for (int64_t i = n; i < copies; ++i) output.push_back(Operation::Delete(*decoded));
    }
    for (const auto& [encoded, copies] : after) {
      auto was = old.find(encoded);
      int64_t n = was == old.end() ? 0 : was->second;
      for (int64_t i = n; i < copies; ++i) output.push_back(Operation::Insert(after_rows[encoded]));
    }
    if (it != partitions_.end() && it->second.empty()) partitions_.erase(it);
  }
  return Status::OK();
}

}  // namespace sluice
