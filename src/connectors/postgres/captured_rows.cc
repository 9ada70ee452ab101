#include "connectors/postgres/captured_rows.h"

#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {

std::string CapturedRows::KeyOf(const Record& row) const {
  std::string key;
  if (schema_.has_primary_key()) {
    EncodeKey(schema_, row, schema_.primary_key, &key);
  } else {
    for (size_t c = 0; c < row.size(); ++c) EncodeKeyValue(schema_.fields[c].type, row[c], &key);
  }
  return key;
}

void CapturedRows::Remember(const Record& row) {
  Stored& stored = rows_[KeyOf(row)];
  stored.row.clear();
  EncodeRow(schema_, row, &stored.row);
  ++stored.copies;
}

void CapturedRows::RememberEncoded(std::string_view key, std::string_view row) {
  Stored& stored = rows_[std::string(key)];
  stored.row.assign(row);
  stored.copies = 1;
}

Result<Record> CapturedRows::Forget(const std::string& key) {
  auto it = rows_.find(key);
  if (it == rows_.end()) {
    return DataLoss("table " + table_ +
                    ": a change refers to a row Sluice never saw; the capture is out of step "
                    "with the database (run `sluice clean` and start again)");
  }
  auto row = DecodeRow(schema_, it->second.row);
  if (--it->second.copies <= 0) rows_.erase(it);
  return row;
}

Status CapturedRows::TakeAll(const std::function<void(const Record&)>& visit) {
  for (const auto& [key, stored] : rows_) {
    ASSIGN_OR_RETURN(Record row, DecodeRow(schema_, stored.row));
    for (int64_t i = 0; i < stored.copies; ++i) visit(row);
  }
  rows_.clear();
  return Status::OK();
}

}  // namespace sluice
