#include "cache/cache_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <functional>

#include "cache/lmdb_handles.h"
#include "common/file_util.h"
#include "types/varint.h"

namespace sluice {
namespace {

constexpr const char* kDefinitionKey = "definition";
constexpr int kMaxGrowths = 40;

std::string PositionKey(const std::string& source) { return "pos:" + source; }
std::string RowCountKey(const std::string& table) { return "rows:" + table; }
std::string TableDbName(const std::string& table) { return "t:" + table; }

// Multiset entries are keyed by the row's hash plus a sequence number that tells apart
// different rows whose hashes collide; the value is the copy count followed by the row.
constexpr size_t kMultisetKeySize = 12;

void MultisetKey(uint64_t hash, uint32_t seq, char out[kMultisetKeySize]) {
  for (int i = 0; i < 8; ++i) out[i] = char(uint8_t(hash >> (56 - 8 * i)));
  for (int i = 0; i < 4; ++i) out[8 + i] = char(uint8_t(seq >> (24 - 8 * i)));
}

uint32_t MultisetSeq(std::string_view key) {
  uint32_t seq = 0;
  for (int i = 8; i < 12; ++i) seq = (seq << 8) | uint8_t(key[size_t(i)]);
  return seq;
}

struct MultisetEntry {
  uint64_t copies;
  std::string_view row;
};

std::optional<MultisetEntry> ParseMultisetValue(std::string_view value) {
  VarintReader reader(value);
  auto copies = reader.Varint();
  if (!copies) return std::nullopt;
  size_t header = value.size();
  // The row is everything after the varint.
  for (size_t i = 0; i < value.size(); ++i) {
    if (!(uint8_t(value[i]) & 0x80)) {
      header = i + 1;
      break;
    }
  }
  return MultisetEntry{*copies, value.substr(header)};
}

void MultisetValue(uint64_t copies, std::string_view row, std::string* out) {
  out->clear();
  AppendVarint(copies, out);
  out->append(row);
}

Result<uint64_t> ReadCounter(MDB_txn* txn, MDB_dbi meta, const std::string& key) {
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) return uint64_t{0};
  if (rc != 0) return LmdbError(rc, "cannot read row count");
  VarintReader r(FromVal(v));
  auto n = r.Varint();
  if (!n) return DataLoss("row count for " + key + " is malformed");
  return *n;
}

}  // namespace

ReadView::ReadView(ReadView&& o) noexcept : store_(o.store_), txn_(o.txn_) {
  o.txn_ = nullptr;
  o.store_ = nullptr;
}

ReadView::~ReadView() {
  if (txn_) {
    mdb_txn_abort(txn_);
    store_->ExitRead();
  }
}

Result<std::optional<std::string_view>> ReadView::Get(uint32_t table, std::string_view key) const {
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn_, store_->table_dbs_[table], &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return LmdbError(rc, "cannot read from cache");
  return std::optional<std::string_view>(FromVal(v));
}

Status ReadView::Scan(uint32_t table,
                      const std::function<bool(std::string_view, uint64_t)>& visit) const {
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn_, store_->table_dbs_[table]));
  const bool multiset = !store_->tables_[table].schema.has_primary_key();
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (rc != 0) return LmdbError(rc, "cannot scan cache");
    if (!multiset) {
      if (!visit(FromVal(v), 1)) break;
      continue;
    }
    auto entry = ParseMultisetValue(FromVal(v));
    if (!entry) return DataLoss("malformed multiset entry in table " + store_->tables_[table].name);
    if (!visit(entry->row, entry->copies)) break;
  }
  return Status::OK();
}

Result<uint64_t> ReadView::Count(uint32_t table) const {
  const TableDefinition& def = store_->tables_[table];
  if (!def.schema.has_primary_key()) return ReadCounter(txn_, store_->meta_, RowCountKey(def.name));
  MDB_stat stat;
  int rc = mdb_stat(txn_, store_->table_dbs_[table], &stat);
  if (rc != 0) return LmdbError(rc, "cannot count rows");
  return uint64_t(stat.ms_entries);
}

Result<std::unique_ptr<CacheStore>> CacheStore::Open(const std::string& dir,
                                                     const CacheOptions& options) {
  RETURN_IF_ERROR(EnsureDirectory(dir));
  auto store = std::unique_ptr<CacheStore>(new CacheStore());
  int rc = mdb_env_create(&store->env_);
  if (rc != 0) return LmdbError(rc, "cannot create cache environment");
  // Start from the larger of the configured size and twice the existing data.
  size_t map_size = options.initial_map_size;
  struct stat st;
  if (::stat((dir + "/data.mdb").c_str(), &st) == 0) {
    map_size = std::max(map_size, size_t(st.st_size) * 2);
  }
  map_size = (map_size + 4095) / 4096 * 4096;
  mdb_env_set_mapsize(store->env_, map_size);
  mdb_env_set_maxdbs(store->env_, 1024);
  mdb_env_set_maxreaders(store->env_, 512);
  rc = mdb_env_open(store->env_, dir.c_str(), MDB_NOSYNC | MDB_NORDAHEAD | MDB_NOTLS, 0644);
  if (rc != 0) return LmdbError(rc, "cannot open cache in " + dir);
  MDB_envinfo info;
  mdb_env_info(store->env_, &info);
  store->map_size_ = info.me_mapsize;

  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(store->env_, 0));
  rc = mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &store->meta_);
  if (rc != 0) return LmdbError(rc, "cannot open cache metadata");
  RETURN_IF_ERROR(txn.Commit());
  return store;
}

CacheStore::~CacheStore() {
  if (env_) {
    mdb_env_sync(env_, 1);
    mdb_env_close(env_);
  }
}

Result<bool> CacheStore::DeclareTables(const std::vector<TableDefinition>& tables) {
  std::string definition;
  for (const auto& t : tables) {
    definition += t.name + "|" + t.schema.Fingerprint() + "|" + t.lineage + "\n";
  }
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, 0));
  MDB_val k = ToVal(kDefinitionKey), v;
  int rc = mdb_get(txn.get(), meta_, &k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "cannot read cache definition");
  const bool changed = rc == MDB_NOTFOUND || FromVal(v) != definition;
  if (changed) {
    // Drop every table database and all metadata: the sources replay from the beginning.
    MDB_dbi main_dbi;
    rc = mdb_dbi_open(txn.get(), nullptr, 0, &main_dbi);
    if (rc != 0) return LmdbError(rc, "cannot list cache tables");
    std::vector<std::string> old_tables;
    {
      ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn.get(), main_dbi));
      MDB_val ck, cv;
      for (int c = mdb_cursor_get(cursor.get(), &ck, &cv, MDB_FIRST); c == 0;
           c = mdb_cursor_get(cursor.get(), &ck, &cv, MDB_NEXT)) {
        std::string_view name = FromVal(ck);
        if (name.starts_with("t:")) old_tables.emplace_back(name);
      }
    }
    for (const auto& name : old_tables) {
      MDB_dbi dbi;
      if (mdb_dbi_open(txn.get(), name.c_str(), 0, &dbi) == 0) {
        rc = mdb_drop(txn.get(), dbi, 1);
        if (rc != 0) return LmdbError(rc, "cannot drop old cache table " + name);
      }
    }
    rc = mdb_drop(txn.get(), meta_, 0);
    if (rc != 0) return LmdbError(rc, "cannot reset cache metadata");
    MDB_val dv = ToVal(definition);
    rc = mdb_put(txn.get(), meta_, &k, &dv, 0);
    if (rc != 0) return LmdbError(rc, "cannot store cache definition");
  }
  table_dbs_.clear();
  for (const auto& t : tables) {
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn.get(), TableDbName(t.name).c_str(), MDB_CREATE, &dbi);
    if (rc != 0) return LmdbError(rc, "cannot open cache table " + t.name);
    table_dbs_.push_back(dbi);
  }
  RETURN_IF_ERROR(txn.Commit());
  tables_ = tables;
  return changed;
}

Result<std::string> CacheStore::Position(const std::string& source) const {
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, MDB_RDONLY));
  std::string key = PositionKey(source);
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn.get(), meta_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::string();
  if (rc != 0) return LmdbError(rc, "cannot read position of " + source);
  return std::string(FromVal(v));
}

Status CacheStore::Commit(const CommitBatch& batch) {
  for (int attempt = 0;; ++attempt) {
    Status s = CommitOnce(batch);
    if (s.code() != StatusCode::kResourceExhausted || attempt >= kMaxGrowths) return s;
    RETURN_IF_ERROR(GrowMap());
  }
}

Status CacheStore::CommitOnce(const CommitBatch& batch) {
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, 0));
  for (const TableChanges& changes : batch.tables) {
    const MDB_dbi dbi = table_dbs_[changes.table()];
    int64_t row_delta = 0;
    for (const auto& change : changes.changes()) {
      switch (change.kind) {
        case TableChanges::Kind::kUpsert: {
          MDB_val k = ToVal(changes.key(change)), v = ToVal(changes.row(change));
          int rc = mdb_put(txn.get(), dbi, &k, &v, 0);
          if (rc != 0) return LmdbError(rc, "cannot write to cache");
          break;
        }
        case TableChanges::Kind::kRemove: {
          MDB_val k = ToVal(changes.key(change));
          int rc = mdb_del(txn.get(), dbi, &k, nullptr);
          if (rc == MDB_NOTFOUND) {
            ++deletes_of_missing_rows_;
          } else if (rc != 0) {
            return LmdbError(rc, "cannot delete from cache");
          }
          break;
        }
        case TableChanges::Kind::kAddCopy:
        case TableChanges::Kind::kRemoveCopy:
          RETURN_IF_ERROR(ApplyMultisetChange(txn.get(), dbi, changes, change, row_delta));
          break;
      }
    }
    if (row_delta != 0) {
      const std::string key = RowCountKey(tables_[changes.table()].name);
      ASSIGN_OR_RETURN(uint64_t rows, ReadCounter(txn.get(), meta_, key));
      std::string value;
      AppendVarint(uint64_t(int64_t(rows) + row_delta), &value);
      MDB_val k = ToVal(key), v = ToVal(value);
      int rc = mdb_put(txn.get(), meta_, &k, &v, 0);
      if (rc != 0) return LmdbError(rc, "cannot write row count");
    }
  }
  for (const auto& [source, position] : batch.positions) {
    std::string key = PositionKey(source);
    MDB_val k = ToVal(key), v = ToVal(position);
    int rc = mdb_put(txn.get(), meta_, &k, &v, 0);
    if (rc != 0) return LmdbError(rc, "cannot write source position");
  }
  return txn.Commit();
}

Status CacheStore::ApplyMultisetChange(MDB_txn* txn, MDB_dbi dbi, const TableChanges& changes,
                                       const TableChanges::Change& change, int64_t& row_delta) {
  thread_local std::string value;
  const std::string_view row = changes.row(change);
  const uint64_t hash = std::hash<std::string_view>{}(row);
  char key_bytes[kMultisetKeySize];
  const bool add = change.kind == TableChanges::Kind::kAddCopy;
  if (add) {
    // Common case: no row with this hash yet, one B-tree descent.
    MultisetKey(hash, 0, key_bytes);
    MultisetValue(1, row, &value);
    MDB_val k{kMultisetKeySize, key_bytes}, v = ToVal(value);
    int rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc == 0) {
      ++row_delta;
      return Status::OK();
    }
    if (rc != MDB_KEYEXIST) return LmdbError(rc, "cannot write to cache");
  }
  // Walk the entries sharing this hash: the same row gains or loses a copy.
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn, dbi));
  MultisetKey(hash, 0, key_bytes);
  MDB_val k{kMultisetKeySize, key_bytes}, v;
  uint32_t next_seq = 0;
  for (int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (rc != 0) return LmdbError(rc, "cannot read cache");
    std::string_view found_key = FromVal(k);
    if (found_key.size() != kMultisetKeySize || std::memcmp(found_key.data(), key_bytes, 8) != 0) {
      break;
    }
    next_seq = MultisetSeq(found_key) + 1;
    auto entry = ParseMultisetValue(FromVal(v));
    if (!entry) return DataLoss("malformed multiset entry in cache");
    if (entry->row != row) continue;
    std::string existing_key(found_key);
    uint64_t copies = entry->copies + (add ? 1 : 0) - (add ? 0 : 1);
    MDB_val ek = ToVal(existing_key);
    int rc2;
    if (copies == 0) {
      rc2 = mdb_del(txn, dbi, &ek, nullptr);
    } else {
      std::string updated;
      MultisetValue(copies, row, &updated);
      MDB_val uv = ToVal(updated);
      rc2 = mdb_put(txn, dbi, &ek, &uv, 0);
    }
    if (rc2 != 0) return LmdbError(rc2, "cannot update cache");
    row_delta += add ? 1 : -1;
    return Status::OK();
  }
  if (!add) {
    ++deletes_of_missing_rows_;
    return Status::OK();
  }
  MultisetKey(hash, next_seq, key_bytes);
  MultisetValue(1, row, &value);
  MDB_val nk{kMultisetKeySize, key_bytes}, nv = ToVal(value);
  int rc = mdb_put(txn, dbi, &nk, &nv, MDB_NOOVERWRITE);
  if (rc != 0) return LmdbError(rc, "cannot write to cache");
  ++row_delta;
  return Status::OK();
}

Status CacheStore::GrowMap() {
  resizing_.store(true);
  {
    std::unique_lock lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return active_readers_.load() == 0; });
  }
  size_t new_size = map_size_ * 2;
  int rc = mdb_env_set_mapsize(env_, new_size);
  {
    std::lock_guard lock(gate_mu_);
    resizing_.store(false);
  }
  gate_cv_.notify_all();
  if (rc != 0) return LmdbError(rc, "cannot grow the cache map");
  spdlog::info("cache map grown to {} MiB", new_size >> 20);
  map_size_ = new_size;
  return Status::OK();
}

void CacheStore::EnterRead() const {
  while (true) {
    active_readers_.fetch_add(1);
    if (!resizing_.load()) return;
    ExitRead();
    std::unique_lock lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return !resizing_.load(); });
  }
}

void CacheStore::ExitRead() const {
  if (active_readers_.fetch_sub(1) == 1 && resizing_.load()) {
    std::lock_guard lock(gate_mu_);
    gate_cv_.notify_all();
  }
}

Result<ReadView> CacheStore::BeginRead() const {
  EnterRead();
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) {
    ExitRead();
    return LmdbError(rc, "cannot begin cache read");
  }
  return ReadView(this, txn);
}

Status CacheStore::Sync() {
  int rc = mdb_env_sync(env_, 1);
  if (rc != 0) return LmdbError(rc, "cannot sync cache");
  return Status::OK();
}

}  // namespace sluice
