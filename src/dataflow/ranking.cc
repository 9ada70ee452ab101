#include "dataflow/ranking.h"

#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

std::string EncodeRecord(const Schema& schema, const Record& row) {
  std::string key;
  for (size_t i = 0; i < row.size(); ++i) EncodeKeyValue(schema.fields[i].type, row[i], &key);
  return key;
}

}  // namespace

Status Ranking::OutputsOf(const Partition& partition, Outputs& outputs) const {
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
      std::string exact;
      EncodeRow(plan_.output_schema, out, &exact);
      OutputRow& o = outputs[exact];
      if (o.copies++ == 0) o.row = std::move(out);
    }
    previous = &entry.order_key;
  }
  return Status::OK();
}

Status Ranking::Apply(const Record& row, int weight, std::vector<std::string>& touched,
                      std::unordered_map<std::string, Outputs>& before) {
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
    RETURN_IF_ERROR(OutputsOf(partition, before[partition_key]));
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
  std::unordered_map<std::string, Outputs> before;
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) RETURN_IF_ERROR(Apply(op.old_record, -1, touched, before));
    if (op.kind != OpKind::kDelete) RETURN_IF_ERROR(Apply(op.new_record, +1, touched, before));
  }
  for (const std::string& key : touched) {
    Outputs after;
    auto it = partitions_.find(key);
    if (it != partitions_.end()) RETURN_IF_ERROR(OutputsOf(it->second, after));
    const Outputs& old = before[key];
    for (const auto& [encoded, was] : old) {
      auto now = after.find(encoded);
      for (int64_t n = now == after.end() ? 0 : now->second.copies; n < was.copies; ++n) {
        output.push_back(Operation::Delete(was.row));
      }
    }
    for (const auto& [encoded, now] : after) {
      auto was = old.find(encoded);
      for (int64_t n = was == old.end() ? 0 : was->second.copies; n < now.copies; ++n) {
        output.push_back(Operation::Insert(now.row));
      }
    }
    if (it != partitions_.end() && it->second.empty()) partitions_.erase(it);
  }
  return Status::OK();
}

}  // namespace sluice
