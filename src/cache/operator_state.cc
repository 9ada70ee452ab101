#include "cache/operator_state.h"

#include <functional>

#include "cache/lmdb_handles.h"
#include "types/varint.h"

namespace sluice {
namespace {

constexpr size_t kStagePrefixSize = 8;
constexpr size_t kKeySize = kStagePrefixSize + 1 + 8;

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(char(uint8_t(v >> (8 * i))));
}

std::string StagePrefix(uint32_t statement, uint32_t stage) {
  std::string key;
  PutBigEndian(statement, 4, &key);
  PutBigEndian(stage, 4, &key);
  return key;
}

struct Entry {
  uint64_t copies;
  std::string_view row;
};

Result<std::vector<Entry>> DecodeBucket(std::string_view value) {
  std::vector<Entry> entries;
  VarintReader in(value);
  while (!in.done()) {
    auto copies = in.Varint();
    auto size = copies ? in.Varint() : std::nullopt;
    auto row = size ? in.Bytes(*size) : std::nullopt;
    if (!row) return DataLoss("malformed operator checkpoint entry");
    entries.push_back({*copies, *row});
  }
  return entries;
}

}  // namespace

Status ApplyStageState(MDB_txn* txn, MDB_dbi dbi, const StageStateChanges& changes) {
  std::string key = StagePrefix(changes.statement, changes.stage);
  std::string value;
  for (const StateRowChange& change : changes.rows) {
    if (change.weight == 0) continue;
    key.resize(kStagePrefixSize);
    key.push_back(char(change.side));
    PutBigEndian(std::hash<std::string_view>{}(change.row), 8, &key);
    MDB_val k = ToVal(key), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "cannot read operator checkpoint");
    std::vector<Entry> entries;
    if (rc == 0) {
      ASSIGN_OR_RETURN(entries, DecodeBucket(FromVal(v)));
    }
    int64_t copies = change.weight;
    for (const Entry& e : entries) {
      if (e.row == change.row) copies += int64_t(e.copies);
    }
    if (copies < 0) {
      return DataLoss("operator checkpoint of statement " + std::to_string(changes.statement) +
                      " stage " + std::to_string(changes.stage) +
                      " would hold a negative number of copies of a row");
    }
    value.clear();
    for (const Entry& e : entries) {
      if (e.row == change.row) continue;
      AppendVarint(e.copies, &value);
      AppendVarint(e.row.size(), &value);
      value.append(e.row);
    }
    if (copies > 0) {
      AppendVarint(uint64_t(copies), &value);
      AppendVarint(change.row.size(), &value);
      value.append(change.row);
    }
    if (value.empty()) {
      rc = mdb_del(txn, dbi, &k, nullptr);
      if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "cannot write operator checkpoint");
    } else {
      MDB_val nv = ToVal(value);
      rc = mdb_put(txn, dbi, &k, &nv, 0);
      if (rc != 0) return LmdbError(rc, "cannot write operator checkpoint");
    }
  }
  return Status::OK();
}

Status ScanStageState(MDB_txn* txn, MDB_dbi dbi, uint32_t statement, uint32_t stage,
                      const StateVisitor& visit) {
  const std::string prefix = StagePrefix(statement, stage);
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn, dbi));
  MDB_val k = ToVal(prefix), v;
  for (int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return LmdbError(rc, "cannot read operator checkpoint");
    std::string_view key = FromVal(k);
    if (key.substr(0, kStagePrefixSize) != prefix) break;
    if (key.size() != kKeySize) return DataLoss("malformed operator checkpoint key");
    ASSIGN_OR_RETURN(std::vector<Entry> entries, DecodeBucket(FromVal(v)));
    for (const Entry& e : entries) {
      RETURN_IF_ERROR(visit(uint8_t(key[kStagePrefixSize]), e.row, e.copies));
    }
  }
  return Status::OK();
}

}  // namespace sluice
