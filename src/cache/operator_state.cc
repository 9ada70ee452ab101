#include "cache/operator_state.h"

#include <absl/container/flat_hash_map.h>

#include "cache/lmdb_handles.h"
#include "types/varint.h"

namespace sluice {
namespace {

constexpr size_t kStagePrefixSize = 8;
constexpr size_t kKeySize = kStagePrefixSize + 8;
constexpr uint64_t kCountersSeq = ~uint64_t{0};  // the per-stage counters' key
// Compaction when stored rows exceed twice the net rows plus this slack.
constexpr uint64_t kCompactionSlack = 100000;
constexpr size_t kRunBytes = 1 << 20;  // compacted runs are cut at about this size

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(char(uint8_t(v >> (8 * i))));
}

uint64_t GetBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

std::string Key(uint32_t statement, uint32_t stage, uint64_t seq) {
  std::string key;
  PutBigEndian(statement, 4, &key);
  PutBigEndian(stage, 4, &key);
  PutBigEndian(seq, 8, &key);
  return key;
}

void AppendChange(uint8_t side, std::string_view row, int64_t weight, std::string* run) {
  run->push_back(char(side));
  AppendVarint(ZigZag(weight), run);
  AppendVarint(row.size(), run);
  run->append(row);
}

Status VisitRun(std::string_view run, const StateVisitor& visit) {
  VarintReader in(run);
  while (!in.done()) {
    auto side = in.Bytes(1);
    auto weight = side ? in.Varint() : std::nullopt;
    auto size = weight ? in.Varint() : std::nullopt;
    auto row = size ? in.Bytes(*size) : std::nullopt;
    if (!row) return DataLoss("malformed operator checkpoint entry");
    RETURN_IF_ERROR(visit(uint8_t((*side)[0]), *row, UnZigZag(*weight)));
  }
  return Status::OK();
}

struct Counters {
  uint64_t stored = 0;    // rows in the stored runs
  int64_t net = 0;        // copies they add up to
  uint64_t next_seq = 0;  // of the next run
};

Result<Counters> ReadCounters(MDB_txn* txn, MDB_dbi dbi, uint32_t statement, uint32_t stage) {
  std::string key = Key(statement, stage, kCountersSeq);
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return Counters{};
  if (rc != 0) return LmdbError(rc, "cannot read operator checkpoint counters");
  VarintReader in(FromVal(v));
  auto stored = in.Varint();
  auto net = in.Varint();
  auto next_seq = in.Varint();
  if (!stored || !net || !next_seq) return DataLoss("malformed operator checkpoint counters");
  return Counters{*stored, UnZigZag(*net), *next_seq};
}

Status Put(MDB_txn* txn, MDB_dbi dbi, const std::string& key, std::string_view value) {
  MDB_val k = ToVal(key), v = ToVal(value);
  int rc = mdb_put(txn, dbi, &k, &v, 0);
  return rc == 0 ? Status::OK() : LmdbError(rc, "cannot write operator checkpoint");
}

// Rewrites a stage's runs as one consolidated multiset (no cancelled changes left).
Status Compact(MDB_txn* txn, MDB_dbi dbi, uint32_t statement, uint32_t stage, Counters* counters) {
  absl::flat_hash_map<std::string, int64_t> rows[2];
  RETURN_IF_ERROR(ScanStageState(txn, dbi, statement, stage,
                                 [&](uint8_t side, std::string_view row, int64_t weight) {
                                   if (side > 1) return DataLoss("bad side in a checkpoint");
                                   rows[side][std::string(row)] += weight;
                                   return Status::OK();
                                 }));
  {
    ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn, dbi));
    std::string first = Key(statement, stage, 0);
    MDB_val k = ToVal(first), v;
    for (int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_GET_CURRENT)) {
      std::string_view key = FromVal(k);
      if (key.substr(0, kStagePrefixSize) != std::string_view(first).substr(0, kStagePrefixSize) ||
          GetBigEndian(key.data() + kStagePrefixSize) == kCountersSeq) {
        break;
      }
      rc = mdb_cursor_del(cursor.get(), 0);
      if (rc != 0) return LmdbError(rc, "cannot compact operator checkpoint");
    }
  }
  std::string run;
  *counters = Counters{};
  for (uint8_t side = 0; side < 2; ++side) {
    for (const auto& [row, weight] : rows[side]) {
      if (weight == 0) continue;
      AppendChange(side, row, weight, &run);
      ++counters->stored;
      counters->net += weight;
      if (run.size() >= kRunBytes) {
        RETURN_IF_ERROR(Put(txn, dbi, Key(statement, stage, counters->next_seq++), run));
        run.clear();
      }
    }
  }
  if (!run.empty())
    RETURN_IF_ERROR(Put(txn, dbi, Key(statement, stage, counters->next_seq++), run));
  return Status::OK();
}

}  // namespace

Status ApplyStageState(MDB_txn* txn, MDB_dbi dbi, const StageStateChanges& changes) {
  if (changes.rows.empty()) return Status::OK();
  ASSIGN_OR_RETURN(Counters counters, ReadCounters(txn, dbi, changes.statement, changes.stage));
  std::string run;
  for (const StateRowChange& change : changes.rows) {
    if (change.weight == 0) continue;
    AppendChange(change.side, change.row, change.weight, &run);
    ++counters.stored;
    counters.net += change.weight;
  }
  RETURN_IF_ERROR(Put(txn, dbi, Key(changes.statement, changes.stage, counters.next_seq++), run));
  if (counters.stored > 2 * uint64_t(std::max<int64_t>(counters.net, 0)) + kCompactionSlack) {
    RETURN_IF_ERROR(Compact(txn, dbi, changes.statement, changes.stage, &counters));
  }
  std::string value;
  AppendVarint(counters.stored, &value);
  AppendVarint(ZigZag(counters.net), &value);
  AppendVarint(counters.next_seq, &value);
  return Put(txn, dbi, Key(changes.statement, changes.stage, kCountersSeq), value);
}

Status ScanStageState(MDB_txn* txn, MDB_dbi dbi, uint32_t statement, uint32_t stage,
                      const StateVisitor& visit) {
  const std::string first = Key(statement, stage, 0);
  const std::string_view prefix = std::string_view(first).substr(0, kStagePrefixSize);
  ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::Open(txn, dbi));
  MDB_val k = ToVal(first), v;
  for (int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return LmdbError(rc, "cannot read operator checkpoint");
    std::string_view key = FromVal(k);
    if (key.size() != kKeySize || key.substr(0, kStagePrefixSize) != prefix) break;
    if (GetBigEndian(key.data() + kStagePrefixSize) == kCountersSeq) break;
    RETURN_IF_ERROR(VisitRun(FromVal(v), visit));
  }
  return Status::OK();
}

}  // namespace sluice
