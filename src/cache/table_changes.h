// TableChanges: one table's share of a commit, already encoded by the sink (keys with the
// key codec, rows with the row codec) so the single cache writer only does LMDB work.
// Keyed tables take Upsert/Remove by key; keyless tables are multisets and take
// AddCopy/RemoveCopy by row bytes (a delete removes one copy).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class TableChanges {
 public:
  enum class Kind : uint8_t { kUpsert, kRemove, kAddCopy, kRemoveCopy };
  struct Change {
    Kind kind;
    uint32_t key_offset, key_size;  // keyed tables
    uint32_t row_offset, row_size;
  };

  explicit TableChanges(uint32_t table = 0) : table_(table) {}

  void Upsert(std::string_view key, std::string_view row) { Add(Kind::kUpsert, key, row); }
  void Remove(std::string_view key) { Add(Kind::kRemove, key, {}); }
  void AddCopy(std::string_view row) { Add(Kind::kAddCopy, {}, row); }
  void RemoveCopy(std::string_view row) { Add(Kind::kRemoveCopy, {}, row); }

  uint32_t table() const { return table_; }
  const std::vector<Change>& changes() const { return changes_; }
  std::string_view key(const Change& c) const { return {arena_.data() + c.key_offset, c.key_size}; }
  std::string_view row(const Change& c) const { return {arena_.data() + c.row_offset, c.row_size}; }
  size_t size() const { return changes_.size(); }
  size_t bytes() const { return arena_.size(); }

 private:
  void Add(Kind kind, std::string_view key, std::string_view row) {
    Change c{kind, uint32_t(arena_.size()), uint32_t(key.size()), 0, uint32_t(row.size())};
    arena_.append(key);
    c.row_offset = uint32_t(arena_.size());
    arena_.append(row);
    changes_.push_back(c);
  }

  uint32_t table_;
  std::string arena_;
  std::vector<Change> changes_;
};

}  // namespace sluice
