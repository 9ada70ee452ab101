#include "dataflow/top_n.h"

#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {

std::string TopN::SortKey(const Record& row) const {
  std::string key;
  for (const auto& k : keys_) {
    const Value& v = row[k.column];
    // A leading byte puts NULLs first or last; descending keys invert the value's bytes
    // (the key encoding is prefix-free, so inverted keys still compare correctly).
    key.push_back(v.is_null() == k.nulls_first ? char(0) : char(1));
    if (v.is_null()) continue;
    std::string value;
    EncodeKeyValue(schema_.fields[k.column].type, v, &value);
    if (k.descending) {
      for (char& c : value) c = char(~static_cast<unsigned char>(c));
    }
    key += value;
  }
  // Ties are broken by the whole row, so equal rows stay together and the order is total.
  for (size_t i = 0; i < row.size(); ++i) EncodeKeyValue(schema_.fields[i].type, row[i], &key);
  // Then by its exact bytes: the key encoding folds equal values (20 and 20.00), and an entry
  // must hold one form only, so a retraction names exactly the row that was emitted.
  EncodeRow(schema_, row, &key);
  return key;
}

std::map<std::string, int64_t> TopN::Window() const {
  std::map<std::string, int64_t> window;
  int64_t position = 0;
  const int64_t end = limit_ > INT64_MAX - offset_ ? INT64_MAX : offset_ + limit_;
  for (const auto& [key, entry] : rows_) {
    if (position >= end) break;
    int64_t first = std::max(position, offset_), last = std::min(position + entry.copies, end);
    if (last > first) window[key] = last - first;
    position += entry.copies;
  }
  return window;
}

Status TopN::Process(const std::vector<Operation>& input, std::vector<Operation>& output) {
  auto before = Window();
  auto apply = [&](const Record& row, int weight) {
    std::string key = SortKey(row);
    Entry& e = rows_[key];
    if (e.copies == 0) e.row = row;
    e.copies += weight;
    if (e.copies <= 0) rows_.erase(key);
  };
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) apply(op.old_record, -1);
    if (op.kind != OpKind::kDelete) apply(op.new_record, +1);
  }
  auto after = Window();
  // Removed first, then added; rows are looked up in the old or new state as needed.
  std::map<std::string, Record> removed_rows;
  for (const auto& [key, copies] : before) {
    auto it = after.find(key);
    int64_t now = it == after.end() ? 0 : it->second;
    if (now >= copies) continue;
    auto row = rows_.find(key);
    // A row that left the state entirely is no longer stored: rebuild it from the input.
    const Record* record = row != rows_.end() ? &row->second.row : nullptr;
    if (!record) {
      for (const Operation& op : input) {
        if (op.kind != OpKind::kInsert && SortKey(op.old_record) == key) record = &op.old_record;
      }
    }
    if (!record) return Internal("top-n lost a row it had emitted");
    for (int64_t i = now; i < copies; ++i) output.push_back(Operation::Delete(*record));
  }
  for (const auto& [key, copies] : after) {
    auto it = before.find(key);
    int64_t was = it == before.end() ? 0 : it->second;
    for (int64_t i = was; i < copies; ++i) output.push_back(Operation::Insert(rows_.at(key).row));
  }
  return Status::OK();
}

}  // namespace sluice
