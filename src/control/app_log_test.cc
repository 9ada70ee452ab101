#include "control/app_log.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "control/log_entry.h"
#include "log/change_log.h"

namespace sluice {
namespace {

Schema KeyValueSchema() {
  Schema schema;
  schema.fields = {{"k", FieldType::kString, false}, {"v", FieldType::kString, true}};
  schema.primary_key = {0};
  return schema;
}

// A commit touching a served table (0) and a hidden one (1), with positions, a checkpoint and
// metadata: every part of a log entry.
CommitBatch SampleCommit(uint64_t epoch, const std::string& key) {
  CommitBatch batch;
  batch.epoch = epoch;
  batch.tables.emplace_back(0).Upsert(key, "row-" + key);
  batch.tables.back().Remove("gone");
  batch.tables.emplace_back(1).AddCopy("hidden-" + key);
  batch.tables.back().RemoveCopy("old");
  batch.positions.emplace_back("pg", "0/" + key);
  batch.state.push_back({2, 3, {{1, "state-" + key, -4}}});
  batch.meta.emplace_back("note", key);
  return batch;
}

TEST(LogEntry, RoundTripsEveryPartAndServesOnlyTheServedTables) {
  const CommitBatch batch = SampleCommit(42, "a");
  const std::string entry = EncodeLogEntry(batch, 1);
  auto decoded = DecodeLogEntry(entry);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->epoch, 42u);
  ASSERT_EQ(decoded->tables.size(), 2u);
  EXPECT_EQ(decoded->tables[0].table(), 0u);
  EXPECT_EQ(decoded->tables[0].key(decoded->tables[0].changes()[0]), "a");
  EXPECT_EQ(decoded->tables[0].row(decoded->tables[0].changes()[0]), "row-a");
  EXPECT_EQ(decoded->tables[0].changes()[1].kind, TableChanges::Kind::kRemove);
  EXPECT_EQ(decoded->tables[1].row(decoded->tables[1].changes()[1]), "old");
  EXPECT_EQ(decoded->positions, batch.positions);
  ASSERT_EQ(decoded->state.size(), 1u);
  EXPECT_EQ(decoded->state[0].statement, 2u);
  EXPECT_EQ(decoded->state[0].rows[0].weight, -4);
  EXPECT_EQ(decoded->state[0].rows[0].row, "state-a");
  EXPECT_EQ(decoded->meta, batch.meta);

  // API nodes get the epoch and table 0 only.
  auto prefix = ServedPrefix(entry);
  ASSERT_TRUE(prefix.ok());
  EXPECT_LT(prefix->size(), entry.size());
  auto served = DecodeLogEntry(*prefix);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->epoch, 42u);
  ASSERT_EQ(served->tables.size(), 1u);
  EXPECT_EQ(served->tables[0].table(), 0u);
  EXPECT_TRUE(served->positions.empty() && served->state.empty() && served->meta.empty());

  // Every truncation is refused, never half-applied.
  for (size_t cut = 0; cut < entry.size(); ++cut) {
    if (cut == prefix->size()) continue;  // exactly the served part: valid by design
    EXPECT_FALSE(DecodeLogEntry(entry.substr(0, cut)).ok()) << "cut at " << cut;
  }
}

class AppLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = CacheStore::Open(dir_.str() + "/cache");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(
        store_
            ->DeclareTables({{"t", KeyValueSchema(), "test"},
                             {"hidden", Schema{{{"r", FieldType::kString, true}}, {}}, "test"}})
            .ok());
    ASSERT_TRUE(AppLog::StartGeneration(*store_).ok());
  }
  Result<std::unique_ptr<AppLog>> OpenLog() {
    return AppLog::Open(dir_.str() + "/log", *store_, LogConfig{}, "serving", 1);
  }
  std::optional<std::string> Row(const std::string& key) {
    auto view = store_->BeginRead();
    auto row = view->Get(0, key);
    return *row ? std::optional<std::string>(std::string(**row)) : std::nullopt;
  }

  TempDir dir_;
  std::unique_ptr<CacheStore> store_;
};

TEST_F(AppLogTest, RedoesWhatWasLoggedButNotCommitted) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    CommitBatch first = SampleCommit(1, "a");
    ASSERT_TRUE(*(*log)->Append(first));  // fsync every epoch: durable at once
    ASSERT_TRUE(store_->Commit(first).ok());
    // The process dies after logging the second epoch, before the cache commits it.
    CommitBatch second = SampleCommit(2, "b");
    ASSERT_TRUE((*log)->Append(second).ok());
    EXPECT_EQ((*log)->durable_seq(), 2u);
  }
  EXPECT_FALSE(Row("b"));
  auto log = OpenLog();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(Row("b"), "row-b");
  EXPECT_EQ(*store_->GetMeta("log_seq"), "2");
  EXPECT_EQ(*store_->Position("pg"), "0/b");
  // Followers read the served part of durable entries in order.
  std::vector<uint64_t> seqs;
  ASSERT_TRUE((*log)
                  ->Read(1, 10,
                         [&](uint64_t seq, std::string_view entry) {
                           seqs.push_back(seq);
                           auto batch = DecodeLogEntry(entry);
                           EXPECT_TRUE(batch.ok() && batch->positions.empty() &&
                                       batch->tables.size() == 1);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2}));
}

TEST_F(AppLogTest, RefusesALogBehindTheCacheOrWithoutAGeneration) {
  {
    auto log = OpenLog();
    CommitBatch first = SampleCommit(1, "a");
    ASSERT_TRUE((*log)->Append(first).ok());
    ASSERT_TRUE(store_->Commit(first).ok());
  }
  // Entry 1 lost from the log (a machine crash with log.fsync: off): it cannot continue the
  // cache, so the caller rebuilds.
  ASSERT_TRUE(ChangeLog::Open(dir_.str() + "/log").value()->TruncateAfter(0).ok());
  auto behind = OpenLog();
  ASSERT_FALSE(behind.ok());
  EXPECT_EQ(behind.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(behind.status().message().find("ends at entry 0 but the cache applied entry 1"),
            std::string::npos)
      << behind.status().message();

  TempDir other;
  auto plain = CacheStore::Open(other.str());
  ASSERT_TRUE((*plain)->DeclareTables({{"t", KeyValueSchema(), "test"}}).ok());
  EXPECT_FALSE(*AppLog::HasGeneration(**plain));
  EXPECT_EQ(AppLog::Open(other.str() + "/log", **plain, LogConfig{}, "", 1).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(AppLogTest, GroupCommitMakesEntriesDurableOnlyAtTheSync) {
  LogConfig config;
  config.fsync_interval_ms = 60000;
  auto log = AppLog::Open(dir_.str() + "/log", *store_, config, "serving", 1);
  ASSERT_TRUE(log.ok());
  CommitBatch batch = SampleCommit(1, "a");
  // Within the interval: appended, not synced.
  EXPECT_FALSE(*(*log)->Append(batch));
  EXPECT_EQ((*log)->durable_seq(), 0u);  // followers do not see it yet
  EXPECT_TRUE(*(*log)->SyncIfDue(true));
  EXPECT_EQ((*log)->durable_seq(), 1u);
  EXPECT_FALSE(*(*log)->SyncIfDue(true));  // nothing new to sync
}

TEST_F(AppLogTest, RetentionWaitsForEveryFollowerEvenAcrossRestarts) {
  LogConfig config;
  config.segment_bytes = 4096;  // a segment per few entries
  config.max_bytes = 1;         // everything applied may go
  std::string big(3000, 'x');
  {
    auto log = AppLog::Open(dir_.str() + "/log", *store_, config, "serving", 1);
    ASSERT_TRUE(log.ok());
    (*log)->Applied("node-a", 0);  // a follower that has applied nothing yet
    for (int i = 0; i < 6; ++i) {
      CommitBatch batch = SampleCommit(uint64_t(i + 1), std::to_string(i));
      batch.tables[0].Upsert("padding", big);
      ASSERT_TRUE((*log)->Append(batch).ok());
      ASSERT_TRUE(store_->Commit(batch).ok());
    }
    ASSERT_TRUE((*log)->ApplyRetention().ok());
    EXPECT_EQ((*log)->first_seq(), 1u) << "dropped entries node-a still needs";
    (*log)->Applied("node-a", 4);
    ASSERT_TRUE((*log)->ApplyRetention().ok());
    EXPECT_GT((*log)->first_seq(), 1u);
    EXPECT_LE((*log)->first_seq(), 5u) << "dropped entries past what node-a applied";
  }
  // Reopened: node-a is remembered, so entry 5 stays until it says otherwise.
  auto log = AppLog::Open(dir_.str() + "/log", *store_, config, "serving", 1);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->ApplyRetention().ok());
  EXPECT_LE((*log)->first_seq(), 5u);
  bool read_five = false;
  ASSERT_TRUE((*log)
                  ->Read(5, 5,
                         [&](uint64_t seq, std::string_view) {
                           read_five = seq == 5;
                           return true;
                         })
                  .ok());
  EXPECT_TRUE(read_five);
}

}  // namespace
}  // namespace sluice
