// Owning wrappers around LMDB's C handles, so no path can leak a transaction or a cursor, and
// LMDB's integer errors become Status right where they happen.
// LMDB's rules still apply (lmdb.h): one write transaction at a time per environment; a read
// transaction belongs to the thread that began it; a cursor must not outlive its transaction.
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

Status LmdbError(int rc, std::string_view what);

inline MDB_val ToVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

class LmdbTxn {
 public:
  LmdbTxn() = default;
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;
  LmdbTxn(LmdbTxn&& o) noexcept : txn_(o.txn_) { o.txn_ = nullptr; }
  LmdbTxn& operator=(LmdbTxn&& o) noexcept {
    if (this != &o) {
      Abort();
      txn_ = o.txn_;
      o.txn_ = nullptr;
    }
    return *this;
  }
  ~LmdbTxn() { Abort(); }

  static Result<LmdbTxn> Begin(MDB_env* env, unsigned flags);
  Status Commit();
  void Abort() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  explicit LmdbTxn(MDB_txn* t) : txn_(t) {}
  MDB_txn* txn_ = nullptr;
};

class LmdbCursor {
 public:
  LmdbCursor(const LmdbCursor&) = delete;
  LmdbCursor& operator=(const LmdbCursor&) = delete;
  LmdbCursor(LmdbCursor&& o) noexcept : cursor_(o.cursor_) { o.cursor_ = nullptr; }
  ~LmdbCursor() {
    if (cursor_) mdb_cursor_close(cursor_);
  }
  static Result<LmdbCursor> Open(MDB_txn* txn, MDB_dbi dbi);
  MDB_cursor* get() const { return cursor_; }

 private:
  explicit LmdbCursor(MDB_cursor* c) : cursor_(c) {}
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace sluice
