// Operator checkpoints kept in the cache. The state of every stateful dataflow stage (a join's
// rows per side, an aggregate's input, a top-n's candidates ...) is determined by the multiset
// of rows its inputs have delivered, so that multiset is what is stored: per stage input, each
// distinct row (types/tagged_record.h) with its number of copies. Each epoch's commit carries
// only the net change of the epoch (rows whose count moved), written in the same LMDB
// transaction as the epoch's results and source positions, so the stored state always matches
// the positions the sources resume from. At start the pipeline feeds the stored rows back into
// fresh operators (dataflow_graph.h Restore), which rebuilds their in-memory indexes.
//
// Layout: database "s:operators"; key = statement (4 bytes BE), stage (4), side (1), hash of the
// row (8); value = one or more [varint copies][varint size][row] (rows whose hashes collide
// share a key).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

struct StateRowChange {
  uint8_t side = 0;
  std::string row;  // EncodeTaggedRecord
  int64_t weight = 0;
};

// One stage's net input change in one epoch.
struct StageStateChanges {
  uint32_t statement = 0;
  uint32_t stage = 0;
  std::vector<StateRowChange> rows;
};

using StateVisitor = std::function<Status(uint8_t side, std::string_view row, uint64_t copies)>;

// Internal to the cache store: apply one stage's changes / visit one stage's stored rows.
Status ApplyStageState(MDB_txn* txn, MDB_dbi dbi, const StageStateChanges& changes);
Status ScanStageState(MDB_txn* txn, MDB_dbi dbi, uint32_t statement, uint32_t stage,
                      const StateVisitor& visit);

}  // namespace sluice
