#include "cache/lmdb_handles.h"

namespace sluice {

Status LmdbError(int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) return ResourceExhausted(std::move(message));
  if (rc == MDB_NOTFOUND) return NotFound(std::move(message));
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) {
    return DataLoss(std::move(message));
  }
  return IoError(std::move(message));
}

Result<LmdbTxn> LmdbTxn::Begin(MDB_env* env, unsigned flags) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, flags, &txn);
  if (rc != 0) return LmdbError(rc, "cannot begin cache transaction");
  return LmdbTxn(txn);
}

Status LmdbTxn::Commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  int rc = mdb_txn_commit(txn);
  if (rc != 0) return LmdbError(rc, "cannot commit cache transaction");
  return Status::OK();
}

Result<LmdbCursor> LmdbCursor::Open(MDB_txn* txn, MDB_dbi dbi) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &c);
  if (rc != 0) return LmdbError(rc, "cannot open cache cursor");
  return LmdbCursor(c);
}

}  // namespace sluice
