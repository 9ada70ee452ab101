// Operator checkpoints kept in the cache. The state of every stateful dataflow stage (a join's
// rows per side, an aggregate's input, a top-n's candidates ...) is determined by the multiset
// of rows its inputs have delivered, so that is what is stored — as the sequence of each
// epoch's net input change (rows, types/tagged_record.h, with the change in their number of
// copies), appended in the same LMDB transaction as the epoch's results and source positions.
// Appending keeps a commit to a few sequential page writes however large the state is; replaying
// the changes in order rebuilds the multiset (dataflow_graph.h Restore feeds them to fresh
// operators at start). When a stage's stored changes outgrow twice its net rows (updates and
// deletes cancel earlier inserts), they are compacted into one consolidated run.
//
// Layout: database "s:operators"; key = statement (4 bytes BE), stage (4), sequence (8 BE);
// value = a run of [side byte][zigzag varint weight][varint size][row]. Per stage, the key with
// sequence 0xFF.. holds [varint stored rows][zigzag varint net rows][varint next sequence].
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

// Stored changes of a stage in commit order (weight < 0: copies removed).
using StateVisitor = std::function<Status(uint8_t side, std::string_view row, int64_t weight)>;

// Internal to the cache store: append one stage's changes (compacting when due) / visit them.
Status ApplyStageState(MDB_txn* txn, MDB_dbi dbi, const StageStateChanges& changes);
Status ScanStageState(MDB_txn* txn, MDB_dbi dbi, uint32_t statement, uint32_t stage,
                      const StateVisitor& visit);

}  // namespace sluice
