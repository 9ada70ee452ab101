#include "cache/cache_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#include "cache/lmdb_handles.h"
#include "common/file_util.h"
#include "types/varint.h"

namespace sluice {
namespace {

constexpr const char* kDefinitionKey = "definition";
constexpr int kMaxGrowths = 40;

std::string PositionKey(const std::string& source) { return "pos:" + source; }
std::string TableDbName(const std::string& table) { return "t:" + table; }

// Multiset rows are keyed by a per-table insertion sequence (8 bytes, big-endian), so inserts
// append at the right edge of the B-tree: few dirty pages per commit, which is what keeps
// LMDB fast. Deleting "one copy of this row" needs a row -> sequence lookup; that index
// (hash of the row + sequence) is built the first time a table sees a delete and maintained
// from then on, so insert-only tables never pay for it.
constexpr size_t kSeqKeySize = 8;
constexpr size_t kHashKeySize = 16;

void BigEndian64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = char(uint8_t(v >> (56 - 8 * i)));
}

uint64_t ReadBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

uint64_t RowHash(std::string_view row) { return std::hash<std::string_view>{}(row); }

std::string HashIndexName(const std::string& table) { return "h:" + table; }

}  // namespace

ReadView::ReadView(ReadView&& o) noexcept : store_(o.store_), txn_(o.txn_) {
  o.txn_ = nullptr;
  o.store_ = nullptr;
}

ReadView::~ReadView() {
  if (txn_) store_->ReleaseReadTxn(txn_);
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
  return ScanEntries(table, [&](std::string_view, std::string_view row) { return visit(row, 1); });
}

Status ReadView::ScanEntries(
    uint32_t table,
    const std::function<bool(std::string_view key, std::string_view row)>& visit) const {
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn_, store_->table_dbs_[table]));
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (rc != 0) return LmdbError(rc, "cannot scan cache");
    if (!visit(FromVal(k), FromVal(v))) break;
  }
  return Status::OK();
}

Result<uint64_t> ReadView::Count(uint32_t table) const {
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
  for (MDB_txn* txn : idle_read_txns_) mdb_txn_abort(txn);
  if (env_) {
    mdb_env_sync(env_, 1);
    mdb_env_close(env_);
  }
}

Result<bool> CacheStore::DeclareTables(const std::vector<TableDefinition>& tables,
                                       bool force_reset) {
  std::string definition;
  for (const auto& t : tables) {
    definition += t.name + "|" + t.schema.Fingerprint() + "|" + t.lineage + "\n";
  }
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, 0));
  MDB_val k = ToVal(kDefinitionKey), v;
  int rc = mdb_get(txn.get(), meta_, &k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "cannot read cache definition");
  const bool changed = force_reset || rc == MDB_NOTFOUND || FromVal(v) != definition;
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
  hash_index_dbs_.clear();
  next_seq_.clear();
  for (const auto& t : tables) {
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn.get(), TableDbName(t.name).c_str(), MDB_CREATE, &dbi);
    if (rc != 0) return LmdbError(rc, "cannot open cache table " + t.name);
    table_dbs_.push_back(dbi);
    std::optional<MDB_dbi> hash_index;
    MDB_dbi hdbi;
    rc = mdb_dbi_open(txn.get(), HashIndexName(t.name).c_str(), 0, &hdbi);
    if (rc == 0) {
      hash_index = hdbi;
    } else if (rc != MDB_NOTFOUND) {
      return LmdbError(rc, "cannot open row index of " + t.name);
    }
    hash_index_dbs_.push_back(hash_index);
    uint64_t next = 0;
    if (!t.schema.has_primary_key()) {
      ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn.get(), dbi));
      MDB_val k, v;
      rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_LAST);
      if (rc == 0 && k.mv_size == kSeqKeySize) {
        next = ReadBigEndian64(static_cast<const char*>(k.mv_data)) + 1;
      } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return LmdbError(rc, "cannot read the last row of " + t.name);
      }
    }
    next_seq_.push_back(next);
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
          if (rc != 0 && rc != MDB_NOTFOUND) {  // deleting an absent key is a no-op
            return LmdbError(rc, "cannot delete from cache");
          }
          break;
        }
        case TableChanges::Kind::kAddCopy:
        case TableChanges::Kind::kRemoveCopy:
          RETURN_IF_ERROR(ApplyMultisetChange(txn.get(), changes.table(), changes.row(change),
                                              change.kind == TableChanges::Kind::kAddCopy));
          break;
      }
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

Status CacheStore::ApplyMultisetChange(MDB_txn* txn, uint32_t table, std::string_view row,
                                       bool add) {
  const MDB_dbi dbi = table_dbs_[table];
  if (add) {
    char key[kSeqKeySize];
    const uint64_t seq = next_seq_[table]++;
    BigEndian64(seq, key);
    MDB_val k{kSeqKeySize, key}, v = ToVal(row);
    int rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
    if (rc != 0) return LmdbError(rc, "cannot write to cache");
    if (hash_index_dbs_[table]) {
      char hkey[kHashKeySize];
      BigEndian64(RowHash(row), hkey);
      BigEndian64(seq, hkey + 8);
      MDB_val hk{kHashKeySize, hkey}, hv{0, nullptr};
      rc = mdb_put(txn, *hash_index_dbs_[table], &hk, &hv, 0);
      if (rc != 0) return LmdbError(rc, "cannot write row index");
    }
    return Status::OK();
  }
  if (!hash_index_dbs_[table]) RETURN_IF_ERROR(BuildHashIndex(txn, table));
  const MDB_dbi hdbi = *hash_index_dbs_[table];
  const uint64_t hash = RowHash(row);
  char hkey[kHashKeySize];
  BigEndian64(hash, hkey);
  BigEndian64(0, hkey + 8);
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn, hdbi));
  MDB_val hk{kHashKeySize, hkey}, hv;
  for (int rc = mdb_cursor_get(cursor.get(), &hk, &hv, MDB_SET_RANGE); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &hk, &hv, MDB_NEXT)) {
    if (rc != 0) return LmdbError(rc, "cannot read row index");
    const char* found = static_cast<const char*>(hk.mv_data);
    if (hk.mv_size != kHashKeySize || ReadBigEndian64(found) != hash) break;
    char seq_key[kSeqKeySize];
    std::memcpy(seq_key, found + 8, kSeqKeySize);
    MDB_val k{kSeqKeySize, seq_key}, v;
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0) return LmdbError(rc, "row index points at a missing row");
    if (FromVal(v) != row) continue;  // a different row with the same hash
    rc = mdb_cursor_del(cursor.get(), 0);
    if (rc == 0) rc = mdb_del(txn, dbi, &k, nullptr);
    if (rc != 0) return LmdbError(rc, "cannot delete from cache");
    return Status::OK();
  }
  return Status::OK();  // deleting a row that is not there is a no-op
}

Status CacheStore::BuildHashIndex(MDB_txn* txn, uint32_t table) {
  const std::string name = HashIndexName(tables_[table].name);
  spdlog::info("table {} received its first delete: indexing its rows for deletes",
               tables_[table].name);
  MDB_dbi hdbi;
  int rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &hdbi);
  if (rc != 0) return LmdbError(rc, "cannot create row index " + name);
  std::vector<std::array<char, kHashKeySize>> entries;
  {
    ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn, table_dbs_[table]));
    MDB_val k, v;
    for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
      std::array<char, kHashKeySize> entry;
      BigEndian64(RowHash(FromVal(v)), entry.data());
      std::memcpy(entry.data() + 8, k.mv_data, kSeqKeySize);
      entries.push_back(entry);
    }
    if (rc != MDB_NOTFOUND) return LmdbError(rc, "cannot scan " + tables_[table].name);
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::memcmp(a.data(), b.data(), kHashKeySize) < 0;
  });
  for (const auto& entry : entries) {
    MDB_val hk{kHashKeySize, const_cast<char*>(entry.data())}, hv{0, nullptr};
    rc = mdb_put(txn, hdbi, &hk, &hv, MDB_APPEND);
    if (rc != 0) return LmdbError(rc, "cannot build row index " + name);
  }
  hash_index_dbs_[table] = hdbi;
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
  {
    std::lock_guard lock(read_pool_mu_);
    if (!idle_read_txns_.empty()) {
      txn = idle_read_txns_.back();
      idle_read_txns_.pop_back();
    }
  }
  if (txn && mdb_txn_renew(txn) != 0) {
    mdb_txn_abort(txn);
    txn = nullptr;
  }
  if (!txn) {
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) {
      ExitRead();
      return LmdbError(rc, "cannot begin cache read");
    }
  }
  return ReadView(this, txn);
}

void CacheStore::ReleaseReadTxn(MDB_txn* txn) const {
  constexpr size_t kMaxIdleReadTxns = 64;
  mdb_txn_reset(txn);
  {
    std::lock_guard lock(read_pool_mu_);
    if (idle_read_txns_.size() < kMaxIdleReadTxns) {
      idle_read_txns_.push_back(txn);
      txn = nullptr;
    }
  }
  if (txn) mdb_txn_abort(txn);
  ExitRead();
}

Status CacheStore::Sync() {
  int rc = mdb_env_sync(env_, 1);
  if (rc != 0) return LmdbError(rc, "cannot sync cache");
  return Status::OK();
}

}  // namespace sluice
