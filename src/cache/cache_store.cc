#include "cache/cache_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#include "cache/index_entries.h"
#include "cache/lmdb_handles.h"
#include "common/file_util.h"
#include "types/varint.h"

namespace sluice {
namespace {

constexpr const char* kDefinitionKey = "definition";
constexpr int kMaxGrowths = 40;

std::string PositionKey(const std::string& source) { return "pos:" + source; }
std::string TableDbName(const std::string& table) { return "t:" + table; }
// Named like the table databases ("x:...") so a reset drops it with them.
constexpr const char* kOperatorStateDb = "s:operators";
constexpr const char* kCursorKeyMeta = "cursor_key";

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
std::string IndexDbName(const std::string& table, size_t i) {
  return "i:" + table + ":" + std::to_string(i);
}

std::string SeqKey(uint64_t seq) {
  std::string key(kSeqKeySize, '\0');
  BigEndian64(seq, key.data());
  return key;
}

// What the cache definition records of a table: a change in any of it rebuilds the cache.
std::string DefinitionLine(const TableDefinition& t) {
  std::string line = t.name + "|" + t.schema.Fingerprint() + "|" + t.lineage;
  // "rows-in-index": sorted entries carry their rows (a layout change rebuilds the cache).
  for (const IndexDefinition& index : t.indexes) {
    line += "|" + index.Describe(t.schema) + "/rows-in-index";
  }
  return line + "\n";
}

std::string DefinitionText(const std::vector<TableDefinition>& tables) {
  std::string text;
  for (const auto& t : tables) text += DefinitionLine(t);
  return text;
}

// Opens (or, with MDB_CREATE, creates) the secondary-index databases of `t`, in order.
Result<std::vector<MDB_dbi>> OpenIndexDbs(MDB_txn* txn, const TableDefinition& t, unsigned flags) {
  std::vector<MDB_dbi> dbis;
  for (size_t i = 0; i < t.indexes.size(); ++i) {
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, IndexDbName(t.name, i).c_str(), flags, &dbi);
    if (rc != 0) return LmdbError(rc, "cannot open index " + IndexDbName(t.name, i));
    dbis.push_back(dbi);
  }
  return dbis;
}

}  // namespace

std::string IndexDefinition::Describe(const Schema& schema) const {
  std::string out = kind == Kind::kSorted ? "sorted(" : "full_text(";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ", ";
    out += schema.fields[columns[i]].name;
  }
  return out + ")";
}

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

Result<uint64_t> ReadView::Count(uint32_t table) const { return TreeEntries(table, kRows); }

Result<uint64_t> ReadView::TreeEntries(uint32_t table, int tree) const {
  MDB_stat stat;
  const MDB_dbi dbi = TreeDbi(table, tree);
  int rc = mdb_stat(txn_, dbi, &stat);
  if (rc != 0) return LmdbError(rc, "cannot count entries");
  return uint64_t(stat.ms_entries);
}

Status ReadView::ScanTree(
    uint32_t table, int tree, std::string_view start, bool reverse,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  const MDB_dbi dbi = TreeDbi(table, tree);
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn_, dbi));
  MDB_val k = ToVal(start), v;
  int rc;
  if (!reverse) {
    rc = mdb_cursor_get(cursor.get(), &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
  } else if (start.empty()) {
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_LAST);
  } else {
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
      rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_LAST);
    } else if (rc == 0 && FromVal(k) > start) {
      rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_PREV);
    }
  }
  const MDB_cursor_op step = reverse ? MDB_PREV : MDB_NEXT;
  for (; rc != MDB_NOTFOUND; rc = mdb_cursor_get(cursor.get(), &k, &v, step)) {
    if (rc != 0) return LmdbError(rc, "cannot scan cache");
    if (!visit(FromVal(k), FromVal(v))) break;
  }
  return Status::OK();
}

Result<bool> ReadView::HasKey(uint32_t table, int tree, std::string_view key) const {
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn_, TreeDbi(table, tree), &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return LmdbError(rc, "cannot read from cache");
  return true;
}

ReadView::Cursor::~Cursor() {
  if (cursor_) mdb_cursor_close(cursor_);
}

Result<std::optional<std::string_view>> ReadView::Cursor::SeekAtLeast(std::string_view key) {
  // Nearby keys are reached by stepping; farther ones by LMDB's seek.
  constexpr int kMaxSteps = 8;
  MDB_val k, v;
  // Where a cursor operation left the cursor: on a key, or past the last one for good.
  auto land = [&](int rc) -> Result<std::optional<std::string_view>> {
    if (rc == MDB_NOTFOUND) at_end_ = true;
    if (at_end_) return std::optional<std::string_view>();
    if (rc != 0) return LmdbError(rc, "cannot read from cache");
    key_ = FromVal(k);
    return std::optional<std::string_view>(key_);
  };
  if (at_end_) return std::optional<std::string_view>();
  if (!key_.empty()) {
    for (int step = 0; step < kMaxSteps && key_ < key; ++step) {
      ASSIGN_OR_RETURN(auto at, land(mdb_cursor_get(cursor_, &k, &v, MDB_NEXT)));
      if (!at) return at;
    }
    if (key_ >= key) return std::optional<std::string_view>(key_);
  }
  k = ToVal(key);
  return land(mdb_cursor_get(cursor_, &k, &v, MDB_SET_RANGE));
}

Result<ReadView::Cursor> ReadView::OpenCursor(uint32_t table, int tree) const {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, TreeDbi(table, tree), &cursor);
  if (rc != 0) return LmdbError(rc, "cannot open a cache cursor");
  return Cursor(cursor);
}

MDB_dbi ReadView::TreeDbi(uint32_t table, int tree) const {
  return tree == kRows ? store_->table_dbs_[table] : store_->index_dbs_[table][tree];
}

const TableDefinition& ReadView::definition(uint32_t table) const { return store_->tables_[table]; }

const CursorCipher& ReadView::cursor_cipher() const { return *store_->cursor_cipher_; }

uint64_t ReadView::txn_id() const { return mdb_txn_id(txn_); }

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
  // The cursor key is made with the cache and kept with it, so cursors outlive the process.
  std::string cursor_key(kCursorKeyMeta);
  MDB_val k = ToVal(cursor_key), v;
  rc = mdb_get(txn.get(), store->meta_, &k, &v);
  if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != CursorCipher::kKeyBytes)) {
    ASSIGN_OR_RETURN(std::string fresh, CursorCipher::NewKey());
    v = ToVal(fresh);
    rc = mdb_put(txn.get(), store->meta_, &k, &v, 0);
    if (rc != 0) return LmdbError(rc, "cannot write the cursor key");
    store->cursor_cipher_.emplace(fresh);
  } else if (rc != 0) {
    return LmdbError(rc, "cannot read the cursor key");
  } else {
    store->cursor_cipher_.emplace(FromVal(v));
  }
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

Result<bool> CacheStore::HoldsDefinitions(const std::vector<TableDefinition>& tables) const {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, GetMeta(kDefinitionKey));
  return stored && *stored == DefinitionText(tables);
}

Status CacheStore::AdoptTables(const std::vector<TableDefinition>& tables) {
  ASSIGN_OR_RETURN(bool holds, HoldsDefinitions(tables));
  if (!holds) return DataLoss("the cache does not hold the tables it says it serves");
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, MDB_RDONLY));
  std::vector<MDB_dbi> table_dbs;
  std::vector<std::vector<MDB_dbi>> index_dbs;
  for (const auto& t : tables) {
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn.get(), TableDbName(t.name).c_str(), 0, &dbi);
    if (rc != 0) return LmdbError(rc, "cannot open cache table " + t.name);
    table_dbs.push_back(dbi);
    ASSIGN_OR_RETURN(index_dbs.emplace_back(), OpenIndexDbs(txn.get(), t, 0));
  }
  RETURN_IF_ERROR(txn.Commit());  // keeps the handles open for the environment
  table_dbs_ = std::move(table_dbs);
  index_dbs_ = std::move(index_dbs);
  hash_index_dbs_.assign(tables.size(), std::nullopt);
  next_seq_.assign(tables.size(), 0);
  tables_ = tables;
  return Status::OK();
}

Status CacheStore::PutMeta(const std::string& key, const std::string& value) {
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, 0));
  MDB_val k = ToVal(key), v = ToVal(value);
  int rc = mdb_put(txn.get(), meta_, &k, &v, 0);
  if (rc != 0) return LmdbError(rc, "cannot write cache metadata " + key);
  return txn.Commit();
}

Result<std::optional<std::string>> CacheStore::GetMeta(const std::string& key) const {
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, MDB_RDONLY));
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn.get(), meta_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return LmdbError(rc, "cannot read cache metadata " + key);
  return std::optional<std::string>(std::string(FromVal(v)));
}

Result<bool> CacheStore::DeclareTables(const std::vector<TableDefinition>& tables,
                                       bool force_reset) {
  const std::string definition = DefinitionText(tables);
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
        // Rows (t:), row hashes (h:) and secondary indexes (i:) of every table.
        if (name.size() > 2 && name[1] == ':') old_tables.emplace_back(name);
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
  index_dbs_.clear();
  hash_index_dbs_.clear();
  next_seq_.clear();
  rc = mdb_dbi_open(txn.get(), kOperatorStateDb, MDB_CREATE, &state_);
  if (rc != 0) return LmdbError(rc, "cannot open operator checkpoints");
  for (const auto& t : tables) {
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn.get(), TableDbName(t.name).c_str(), MDB_CREATE, &dbi);
    if (rc != 0) return LmdbError(rc, "cannot open cache table " + t.name);
    table_dbs_.push_back(dbi);
    ASSIGN_OR_RETURN(index_dbs_.emplace_back(), OpenIndexDbs(txn.get(), t, MDB_CREATE));
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

Status CacheStore::ScanOperatorState(uint32_t statement, uint32_t stage,
                                     const StateVisitor& visit) const {
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, MDB_RDONLY));
  return ScanStageState(txn.get(), state_, statement, stage, visit);
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
  // Batches arrive from the log, from an app over gRPC or from JetStream: a table id this cache
  // does not declare is a corrupt or foreign entry, refused before anything is written.
  for (const TableChanges& changes : batch.tables) {
    if (changes.table() >= table_dbs_.size()) {
      return DataLoss("change batch names table " + std::to_string(changes.table()) +
                      ", but this cache has " + std::to_string(table_dbs_.size()) + " table(s)");
    }
  }
  const auto commits_paused = feed_.PauseCommits();  // see ChangeFeed::PauseCommits
  ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::Begin(env_, 0));
  const uint64_t txn_id = mdb_txn_id(txn.get());
  // Live events are built only for tables someone subscribed to, and published after commit.
  std::vector<std::pair<uint32_t, std::vector<ChangeEvent>>> events;
  std::string old_row;
  for (const TableChanges& changes : batch.tables) {
    const uint32_t table = changes.table();
    std::vector<ChangeEvent>* table_events = nullptr;
    if (feed_.HasSubscribers(table)) table_events = &events.emplace_back(table, 0).second;
    for (const auto& change : changes.changes()) {
      bool had_old = false;
      RETURN_IF_ERROR(
          ApplyChange(txn.get(), changes, change, table_events != nullptr, &old_row, &had_old));
      if (!table_events) continue;
      const bool removes = change.kind == TableChanges::Kind::kRemove ||
                           change.kind == TableChanges::Kind::kRemoveCopy;
      if (removes && !had_old) continue;  // deleting an absent row changes nothing
      ChangeEvent event;
      event.kind = removes   ? ChangeEvent::Kind::kDelete
                   : had_old ? ChangeEvent::Kind::kUpdate
                             : ChangeEvent::Kind::kInsert;
      event.epoch = batch.epoch;
      event.commit_txn = txn_id;
      if (had_old) event.old_row = old_row;
      if (!removes) event.new_row = std::string(changes.row(change));
      table_events->push_back(std::move(event));
    }
  }
  for (const StageStateChanges& stage : batch.state) {
    RETURN_IF_ERROR(ApplyStageState(txn.get(), state_, stage));
  }
  auto put_meta = [&](const std::string& key, const std::string& value) {
    MDB_val k = ToVal(key), v = ToVal(value);
    int rc = mdb_put(txn.get(), meta_, &k, &v, 0);
    return rc == 0 ? Status::OK() : LmdbError(rc, "cannot write cache metadata " + key);
  };
  for (const auto& [key, value] : batch.meta) RETURN_IF_ERROR(put_meta(key, value));
  for (const auto& [source, position] : batch.positions) {
    RETURN_IF_ERROR(put_meta(PositionKey(source), position));
  }
  RETURN_IF_ERROR(txn.Commit());
  for (auto& [table, table_events] : events) feed_.Publish(table, std::move(table_events));
  return Status::OK();
}

Status CacheStore::ApplyChange(MDB_txn* txn, const TableChanges& changes,
                               const TableChanges::Change& change, bool want_old,
                               std::string* old_row, bool* had_old) {
  const uint32_t table = changes.table();
  const MDB_dbi dbi = table_dbs_[table];
  const bool indexed = !index_dbs_[table].empty();
  want_old = want_old || indexed;
  *had_old = false;
  switch (change.kind) {
    case TableChanges::Kind::kUpsert:
    case TableChanges::Kind::kRemove: {
      MDB_val k = ToVal(changes.key(change)), v;
      if (want_old) {
        int rc = mdb_get(txn, dbi, &k, &v);
        if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "cannot read from cache");
        *had_old = rc == 0;
        // Copied: the put below may move the page the old value lives on.
        if (*had_old) old_row->assign(FromVal(v));
      }
      const bool upsert = change.kind == TableChanges::Kind::kUpsert;
      if (upsert) {
        v = ToVal(changes.row(change));
        int rc = mdb_put(txn, dbi, &k, &v, 0);
        if (rc != 0) return LmdbError(rc, "cannot write to cache");
      } else {
        int rc = mdb_del(txn, dbi, &k, nullptr);
        if (rc != 0 && rc != MDB_NOTFOUND) {  // deleting an absent key is a no-op
          return LmdbError(rc, "cannot delete from cache");
        }
      }
      if (indexed) {
        RETURN_IF_ERROR(UpdateIndexes(txn, table, changes.key(change),
                                      *had_old ? std::string_view(*old_row) : std::string_view(),
                                      upsert ? changes.row(change) : std::string_view()));
      }
      return Status::OK();
    }
    case TableChanges::Kind::kAddCopy:
    case TableChanges::Kind::kRemoveCopy: {
      const bool add = change.kind == TableChanges::Kind::kAddCopy;
      std::string row_id;
      RETURN_IF_ERROR(ApplyMultisetChange(txn, table, changes.row(change), add, &row_id));
      if (!add && !row_id.empty()) {
        *had_old = true;
        old_row->assign(changes.row(change));
      }
      if (indexed && !row_id.empty()) {
        RETURN_IF_ERROR(UpdateIndexes(txn, table, row_id, add ? "" : changes.row(change),
                                      add ? changes.row(change) : ""));
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

Status CacheStore::UpdateIndexes(MDB_txn* txn, uint32_t table, std::string_view row_id,
                                 std::string_view old_row, std::string_view new_row) {
  const TableDefinition& definition = tables_[table];
  std::vector<std::vector<std::string>> old_entries(definition.indexes.size()), new_entries;
  if (!old_row.empty()) {
    ASSIGN_OR_RETURN(old_entries, IndexEntries(definition, old_row, row_id));
  }
  new_entries.resize(definition.indexes.size());
  if (!new_row.empty()) {
    ASSIGN_OR_RETURN(new_entries, IndexEntries(definition, new_row, row_id));
  }
  MDB_val id = ToVal(row_id);
  std::string sorted_value;  // sorted entries carry the row (index_entries.h)
  if (!new_row.empty()) sorted_value = SortedEntryValue(row_id, new_row);
  const bool row_changed = old_row != new_row;
  for (size_t i = 0; i < definition.indexes.size(); ++i) {
    const MDB_dbi dbi = index_dbs_[table][i];
    const auto& before = old_entries[i];
    const auto& after = new_entries[i];
    const bool sorted = definition.indexes[i].kind == IndexDefinition::Kind::kSorted;
    MDB_val value = sorted ? ToVal(sorted_value) : id;
    // Both lists are sorted: touch only entries that differ (full text: an update of other
    // columns leaves the index alone; sorted entries hold the row, so they are rewritten).
    size_t a = 0, b = 0;
    while (a < before.size() || b < after.size()) {
      int order = a == before.size() ? 1 : b == after.size() ? -1 : before[a].compare(after[b]);
      if (order == 0) {
        if (sorted && row_changed) {
          MDB_val k = ToVal(after[b]);
          int rc = mdb_put(txn, dbi, &k, &value, 0);
          if (rc != 0) return LmdbError(rc, "cannot update index");
        }
        ++a, ++b;
        continue;
      }
      if (order < 0) {
        MDB_val k = ToVal(before[a++]);
        int rc = mdb_del(txn, dbi, &k, nullptr);
        if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "cannot update index");
      } else {
        MDB_val k = ToVal(after[b++]);
        int rc = mdb_put(txn, dbi, &k, &value, 0);
        if (rc != 0) return LmdbError(rc, "cannot update index");
      }
    }
  }
  return Status::OK();
}

Status CacheStore::ApplyMultisetChange(MDB_txn* txn, uint32_t table, std::string_view row, bool add,
                                       std::string* row_id) {
  const MDB_dbi dbi = table_dbs_[table];
  if (add) {
    const uint64_t seq = next_seq_[table]++;
    *row_id = SeqKey(seq);
    MDB_val k = ToVal(*row_id), v = ToVal(row);
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
    std::string seq_key(found + 8, kSeqKeySize);
    MDB_val k = ToVal(seq_key), v;
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0) return LmdbError(rc, "row index points at a missing row");
    if (FromVal(v) != row) continue;  // a different row with the same hash
    rc = mdb_cursor_del(cursor.get(), 0);
    if (rc == 0) rc = mdb_del(txn, dbi, &k, nullptr);
    if (rc != 0) return LmdbError(rc, "cannot delete from cache");
    *row_id = std::move(seq_key);
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
