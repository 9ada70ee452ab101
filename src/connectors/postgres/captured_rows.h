// CapturedRows: the current rows of one captured table, by key, as encoded bytes. PostgreSQL
// sends only key columns for old rows (unless REPLICA IDENTITY FULL), leaves unchanged TOASTed
// values out and names no rows in a TRUNCATE; with this store the capture always hands
// downstream whole old rows and exact deletes. A keyed table is stored by its encoded primary
// key (EncodeKey, as the cache stores it); a keyless one (FULL) by its whole row, with a copy
// count. Memory grows with the table. Owned by the capture's thread.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice {

class CapturedRows {
 public:
  // `schema` (with the table's key) and `table` (for messages) must outlive the store.
  CapturedRows(const Schema& schema, const std::string& table) : schema_(schema), table_(table) {}

  std::string KeyOf(const Record& row) const;
  bool Contains(const std::string& key) const { return rows_.count(key) > 0; }
  void Remember(const Record& row);
  // A keyed row exactly as the cache holds it (key and row encodings are the cache's).
  void RememberEncoded(std::string_view key, std::string_view row);
  // Removes one copy of the row under `key` and returns it; DataLoss when there is none.
  Result<Record> Forget(const std::string& key);
  // Every row (each copy), then forgets them all.
  Status TakeAll(const std::function<void(const Record&)>& visit);

 private:
  struct Stored {
    std::string row;  // EncodeRow bytes: a fraction of a Record's memory
    int64_t copies = 0;
  };
  const Schema& schema_;
  const std::string& table_;
  absl::flat_hash_map<std::string, Stored> rows_;
};

}  // namespace sluice
