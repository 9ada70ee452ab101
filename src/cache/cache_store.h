// CacheStore: the embedded LMDB cache that readers serve from. One environment under
// <home_dir>/cache holds every endpoint table (a named database each) and a metadata database
// with the source positions the stored data reaches, so data and positions always commit in
// the same transaction: after a crash the cache and the positions agree.
//
// Concurrency: exactly one thread calls Commit/DeclareTables/Sync (the cache writer). Any
// number of threads may hold ReadViews at the same time; a ReadView is an LMDB read
// transaction (a consistent snapshot of whole commits); the environment uses MDB_NOTLS, so a
// thread may hold several and a view may move between threads (not be shared by two at once). The
// map grows on demand: on MDB_MAP_FULL the writer waits for open ReadViews to finish, doubles the
// map and retries, while new ReadViews wait briefly.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/change_feed.h"
#include "cache/cursor_cipher.h"
#include "cache/operator_state.h"
#include "cache/table_changes.h"
#include "common/status.h"
#include "types/schema.h"

namespace sluice {

struct CacheOptions {
  size_t initial_map_size = size_t(1) << 30;
};

// A secondary index of a table, maintained in the same LMDB transaction as the rows.
// Sorted: entries ordered by the key codec of `columns`, then the row id (primary key or
// insertion sequence). Full text: one entry per distinct word (text_tokens.h) of the column.
struct IndexDefinition {
  enum class Kind : uint8_t { kSorted, kFullText };
  Kind kind = Kind::kSorted;
  std::vector<size_t> columns;  // full text: exactly one

  // "sorted(customer_id, created_at)" / "full_text(description)".
  std::string Describe(const Schema& schema) const;
  friend bool operator==(const IndexDefinition&, const IndexDefinition&) = default;
};

struct TableDefinition {
  std::string name;
  Schema schema;  // schema.primary_key empty = multiset
  // Identifies what fills the table (source, filters ...): a change rebuilds the cache.
  std::string lineage;
  std::vector<IndexDefinition> indexes = {};
};

struct CommitBatch {
  std::vector<TableChanges> tables;
  std::vector<std::pair<std::string, std::string>> positions;  // source name -> position
  uint64_t epoch = 0;                    // the pipeline epoch this batch closes (tags live events)
  std::vector<StageStateChanges> state;  // operator checkpoints (operator_state.h)
  std::vector<std::pair<std::string, std::string>> meta;  // PutMeta, in the same transaction
};

// Which B-tree of a table ReadView::ScanTree walks: the rows (kRows) or index number i.
constexpr int kRows = -1;

class CacheStore;

// A consistent read-only snapshot of the cache. Values it returns point into LMDB's map and
// stay valid until the view is destroyed.
class ReadView {
 public:
  ReadView(ReadView&&) noexcept;
  ~ReadView();

  // The row stored under `key` in a keyed table, or nullopt.
  Result<std::optional<std::string_view>> Get(uint32_t table, std::string_view key) const;
  // Visits rows in key order (multisets: insertion order, one call per copy, copies = 1).
  // Stop early by returning false from `visit`.
  Status Scan(uint32_t table,
              const std::function<bool(std::string_view row, uint64_t copies)>& visit) const;
  // The same with each entry's key (keyed tables: the encoded primary key; multisets: an
  // insertion sequence number).
  Status ScanEntries(
      uint32_t table,
      const std::function<bool(std::string_view key, std::string_view row)>& visit) const;
  // Number of rows (multiset copies included).
  Result<uint64_t> Count(uint32_t table) const;

  // Walks the rows (tree = kRows: key = primary key or insertion sequence, value = row) or
  // index `tree` (key = index entry, value = row id) from the first key >= `start`
  // (forward) or the last key <= `start` (reverse; an empty start means from the end).
  Status ScanTree(
      uint32_t table, int tree, std::string_view start, bool reverse,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Whether `key` is in a tree.
  Result<bool> HasKey(uint32_t table, int tree, std::string_view key) const;

  // A forward cursor over one tree, for merging sorted runs of keys (posting lists): each
  // seek continues from where the last one ended, so ascending seeks to nearby keys cost a
  // few steps on the current page instead of a descent from the root. Valid while the view is.
  class Cursor {
   public:
    Cursor(Cursor&& o) noexcept : cursor_(o.cursor_), key_(o.key_), at_end_(o.at_end_) {
      o.cursor_ = nullptr;
    }
    Cursor& operator=(Cursor&&) = delete;
    ~Cursor();
    // Moves to the first key >= `key` at or after the current position (keys must be sought
    // in ascending order); nullopt when the tree has no such key.
    Result<std::optional<std::string_view>> SeekAtLeast(std::string_view key);

   private:
    friend class ReadView;
    explicit Cursor(MDB_cursor* cursor) : cursor_(cursor) {}
    MDB_cursor* cursor_;
    std::string_view key_;  // where the cursor stands (empty before the first seek)
    bool at_end_ = false;
  };
  Result<Cursor> OpenCursor(uint32_t table, int tree) const;
  // Entries in a tree (rows or index entries).
  Result<uint64_t> TreeEntries(uint32_t table, int tree) const;

  const TableDefinition& definition(uint32_t table) const;
  // The id of the last transaction this view sees (compare with ChangeEvent::commit_txn).
  uint64_t txn_id() const;
  // Seals the keyset cursors of queries on this cache (cursor_cipher.h).
  const CursorCipher& cursor_cipher() const;

 private:
  friend class CacheStore;
  ReadView(const CacheStore* store, MDB_txn* txn) : store_(store), txn_(txn) {}
  MDB_dbi TreeDbi(uint32_t table, int tree) const;
  const CacheStore* store_;
  MDB_txn* txn_;
};

class CacheStore {
 public:
  static Result<std::unique_ptr<CacheStore>> Open(const std::string& dir,
                                                  const CacheOptions& options = {});
  ~CacheStore();

  // Declares this run's tables (their index is their id in TableChanges and ReadView).
  // When the set of definitions differs from the stored one (or `force_reset`), all data and
  // positions are dropped so the sources replay from the beginning; returns whether that
  // happened.
  Result<bool> DeclareTables(const std::vector<TableDefinition>& tables, bool force_reset = false);

  // Whether the stored data was made for exactly these definitions (DeclareTables would keep it).
  Result<bool> HoldsDefinitions(const std::vector<TableDefinition>& tables) const;
  // Serves stored data read-only under the definitions it was made with (an old cache version
  // serving while a new one is built); the tables must exist.
  Status AdoptTables(const std::vector<TableDefinition>& tables);
  // An opaque value kept in the metadata (e.g. what the tables are served as).
  Status PutMeta(const std::string& key, const std::string& value);
  Result<std::optional<std::string>> GetMeta(const std::string& key) const;

  // Visits the stored checkpoint rows of one dataflow stage (operator_state.h).
  Status ScanOperatorState(uint32_t statement, uint32_t stage, const StateVisitor& visit) const;

  // The position committed for `source`, or "" when none.
  Result<std::string> Position(const std::string& source) const;

  // Applies a batch atomically (one LMDB write transaction), growing the map if needed.
  Status Commit(const CommitBatch& batch);
  // Flushes committed data to disk (the environment runs with MDB_NOSYNC for throughput).
  Status Sync();

  Result<ReadView> BeginRead() const;

  // Live changes of committed transactions (change_feed.h).
  ChangeFeed& feed() const { return feed_; }

  size_t map_size() const { return map_size_; }
  const std::vector<TableDefinition>& tables() const { return tables_; }

 private:
  friend class ReadView;
  CacheStore() = default;
  Status CommitOnce(const CommitBatch& batch);
  // Applies one change; fills `old_row` with the row it replaced or removed (when asked) and
  // keeps the table's indexes in step.
  Status ApplyChange(MDB_txn* txn, const TableChanges& changes, const TableChanges::Change& change,
                     bool want_old, std::string* old_row, bool* had_old);
  Status ApplyMultisetChange(MDB_txn* txn, uint32_t table, std::string_view row, bool add,
                             std::string* row_id);
  Status UpdateIndexes(MDB_txn* txn, uint32_t table, std::string_view row_id,
                       std::string_view old_row, std::string_view new_row);
  Status BuildHashIndex(MDB_txn* txn, uint32_t table);
  Status GrowMap();
  void EnterRead() const;
  void ExitRead() const;
  void ReleaseReadTxn(MDB_txn* txn) const;

  MDB_env* env_ = nullptr;
  MDB_dbi meta_ = 0;
  std::optional<CursorCipher> cursor_cipher_;  // keyed by the cache's "cursor_key" metadata
  MDB_dbi state_ = 0;                          // operator checkpoints; opened by DeclareTables
  std::vector<MDB_dbi> table_dbs_;
  std::vector<std::vector<MDB_dbi>> index_dbs_;         // per table, in IndexDefinition order
  std::vector<std::optional<MDB_dbi>> hash_index_dbs_;  // multisets: row hash -> sequence
  std::vector<uint64_t> next_seq_;                      // multisets: next insertion key
  std::vector<TableDefinition> tables_;
  size_t map_size_ = 0;
  mutable ChangeFeed feed_;

  // Gate that lets the writer resize the map while no read transaction is open.
  mutable std::atomic<int> active_readers_{0};
  mutable std::atomic<bool> resizing_{false};
  mutable std::mutex gate_mu_;
  mutable std::condition_variable gate_cv_;

  // Read transactions kept reset between uses: renewing one skips the reader-table lock and
  // allocation that beginning a fresh one costs on every request.
  mutable std::mutex read_pool_mu_;
  mutable std::vector<MDB_txn*> idle_read_txns_;
};

}  // namespace sluice
