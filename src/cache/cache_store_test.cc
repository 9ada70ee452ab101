#include "cache/cache_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "common/temp_dir.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

class CacheStoreTest : public ::testing::Test {
 protected:
  static Schema KeyedSchema() {
    return Schema{{{"id", FieldType::kInt, false}, {"name", FieldType::kString, true}}, {0}};
  }
  static Schema MultisetSchema() {
    return Schema{{{"id", FieldType::kInt, false}, {"name", FieldType::kString, true}}, {}};
  }
  static std::string Key(int64_t id) {
    std::string k;
    EncodeKeyValue(FieldType::kInt, Value(id), &k);
    return k;
  }
  static std::string Row(int64_t id, const std::string& name) {
    std::string r;
    EncodeRow(KeyedSchema(), {Value(id), Value(name)}, &r);
    return r;
  }
  std::unique_ptr<CacheStore> OpenStore(const std::vector<TableDefinition>& tables,
                                        CacheOptions options = {}) {
    auto store = CacheStore::Open(dir_.str(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto declared = (*store)->DeclareTables(tables);
    EXPECT_TRUE(declared.ok()) << declared.status().ToString();
    return std::move(*store);
  }
  std::map<int64_t, std::string> ReadAll(const CacheStore& store, uint32_t table) {
    std::map<int64_t, std::string> out;
    auto view = store.BeginRead();
    EXPECT_TRUE(view.ok());
    EXPECT_TRUE(view->Scan(table,
                           [&](std::string_view row, uint64_t) {
                             auto r = DecodeRow(KeyedSchema(), row);
                             EXPECT_TRUE(r.ok());
                             out[(*r)[0].as_int()] = (*r)[1].as_string();
                             return true;
                           })
                    .ok());
    return out;
  }

  // Commits person 5 "eve" and position s=p1 in a store that is closed again.
  void CommitEve() {
    auto store = OpenStore({{"people", KeyedSchema(), "src"}});
    CommitBatch batch;
    TableChanges t(0);
    t.Upsert(Key(5), Row(5, "eve"));
    batch.tables.push_back(std::move(t));
    batch.positions.push_back({"s", "p1"});
    ASSERT_TRUE(store->Commit(batch).ok());
  }

  TempDir dir_{"sluice_cache_test"};
};

TEST_F(CacheStoreTest, KeyedInsertUpdateDeleteAndCount) {
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  CommitBatch batch;
  TableChanges t(0);
  t.Upsert(Key(1), Row(1, "ann"));
  t.Upsert(Key(2), Row(2, "bob"));
  t.Upsert(Key(3), Row(3, "cy"));
  t.Upsert(Key(2), Row(2, "bobby"));  // update in place
  t.Remove(Key(3));
  t.Remove(Key(99));  // absent: ignored
  batch.tables.push_back(std::move(t));
  batch.positions.push_back({"people_src", "42"});
  ASSERT_TRUE(store->Commit(batch).ok());

  EXPECT_EQ(ReadAll(*store, 0), (std::map<int64_t, std::string>{{1, "ann"}, {2, "bobby"}}));
  auto view = store->BeginRead();
  EXPECT_EQ(*view->Count(0), 2u);
  auto got = view->Get(0, Key(2));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, Row(2, "bobby"));
  EXPECT_FALSE(view->Get(0, Key(3))->has_value());
  EXPECT_EQ(*store->Position("people_src"), "42");
  EXPECT_EQ(*store->Position("other"), "");
}

// A batch naming a table the cache does not declare (a corrupt or foreign log entry) is
// refused whole with DataLoss; it read past the cache's tables before (found by
// tests/fuzz/log_entry_fuzz.cc under ASan).
TEST_F(CacheStoreTest, BatchNamingAnUndeclaredTableIsRefusedWhole) {
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  CommitBatch batch;
  TableChanges known(0);
  known.Upsert(Key(1), Row(1, "ann"));
  batch.tables.push_back(std::move(known));
  TableChanges foreign(7);
  foreign.Upsert(Key(2), Row(2, "bob"));
  batch.tables.push_back(std::move(foreign));
  Status s = store->Commit(batch);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("table 7"), std::string::npos) << s.ToString();
  EXPECT_TRUE(ReadAll(*store, 0).empty());
}

// Ascending seeks, near (stepped) and far (sought), land on the first key at or after the
// target, and a cursor past the last key stays there.
TEST_F(CacheStoreTest, CursorSeeksAscendingKeysNearAndFar) {
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  CommitBatch batch;
  TableChanges t(0);
  for (int64_t i = 0; i < 2000; ++i) t.Upsert(Key(2 * i), Row(2 * i, "p"));
  batch.tables.push_back(std::move(t));
  ASSERT_TRUE(store->Commit(batch).ok());
  auto view = store->BeginRead();
  ASSERT_TRUE(view.ok());
  auto cursor = view->OpenCursor(0, kRows);
  ASSERT_TRUE(cursor.ok());
  // target -> expected key (-1: none)
  const std::pair<int64_t, int64_t> seeks[] = {{-5, 0},      {0, 0},     {1, 2},    {2, 2},
                                               {7, 8},       {40, 40},   {41, 42},  {1001, 1002},
                                               {3998, 3998}, {3999, -1}, {4000, -1}};
  for (auto [target, expected] : seeks) {
    auto got = cursor->SeekAtLeast(Key(target));
    ASSERT_TRUE(got.ok()) << target;
    if (expected < 0) {
      EXPECT_FALSE(got->has_value()) << target;
    } else {
      ASSERT_TRUE(got->has_value()) << target;
      EXPECT_EQ(std::string(**got), Key(expected)) << target;
    }
  }
}

TEST_F(CacheStoreTest, MultisetKeepsDuplicatesAndDeleteRemovesOneCopy) {
  auto store = OpenStore({{"bids", MultisetSchema(), "src"}});
  CommitBatch batch;
  TableChanges t(0);
  for (int i = 0; i < 3; ++i) t.AddCopy(Row(7, "same"));
  t.AddCopy(Row(8, "other"));
  t.RemoveCopy(Row(7, "same"));
  t.RemoveCopy(Row(9, "never added"));
  batch.tables.push_back(std::move(t));
  ASSERT_TRUE(store->Commit(batch).ok());
  auto view = store->BeginRead();
  EXPECT_EQ(*view->Count(0), 3u);
  std::map<std::string, uint64_t> copies;
  ASSERT_TRUE(view->Scan(0,
                         [&](std::string_view row, uint64_t n) {
                           copies[std::string(row)] += n;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(copies[Row(7, "same")], 2u);
  EXPECT_EQ(copies[Row(8, "other")], 1u);
  EXPECT_EQ(copies.size(), 2u);
}

TEST_F(CacheStoreTest, MultisetMatchesAReferenceUnderRandomChanges) {
  auto store = OpenStore({{"m", MultisetSchema(), "src"}});
  std::map<std::string, int64_t> reference;
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    CommitBatch batch;
    TableChanges t(0);
    for (int i = 0; i < 200; ++i) {
      std::string row = Row(int64_t(rng() % 30), "n");
      if (rng() % 3 == 0) {
        t.RemoveCopy(row);
        if (reference[row] > 0) --reference[row];
      } else {
        t.AddCopy(row);
        ++reference[row];
      }
    }
    batch.tables.push_back(std::move(t));
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  std::map<std::string, int64_t> stored;
  int64_t total = 0;
  auto view = store->BeginRead();
  ASSERT_TRUE(view->Scan(0,
                         [&](std::string_view row, uint64_t n) {
                           stored[std::string(row)] += int64_t(n);
                           return true;
                         })
                  .ok());
  for (auto it = reference.begin(); it != reference.end();) {
    total += it->second;
    it = it->second == 0 ? reference.erase(it) : std::next(it);
  }
  EXPECT_EQ(stored, reference);
  EXPECT_EQ(*view->Count(0), uint64_t(total));
}

TEST_F(CacheStoreTest, ReopensWithDataAndPositions) {
  CommitEve();
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  EXPECT_EQ(ReadAll(*store, 0), (std::map<int64_t, std::string>{{5, "eve"}}));
  EXPECT_EQ(*store->Position("s"), "p1");
}

TEST_F(CacheStoreTest, ChangedDefinitionsStartOver) {
  CommitEve();
  auto store = CacheStore::Open(dir_.str());
  ASSERT_TRUE(store.ok());
  auto changed = (*store)->DeclareTables({{"people", KeyedSchema(), "another source"}});
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(ReadAll(**store, 0).empty());
  EXPECT_EQ(*(*store)->Position("s"), "");
}

// Operator checkpoints: the stored multiset per stage and side follows the net changes of
// every commit, survives a reopen, and is dropped with the data when definitions change.
TEST_F(CacheStoreTest, OperatorStateFollowsNetChangesPerStageAndSide) {
  using Stored = std::map<std::tuple<uint32_t, uint8_t, std::string>, int64_t>;
  Stored expected;
  std::mt19937 rng(7);
  {
    auto store = OpenStore({{"people", KeyedSchema(), "src"}});
    for (int epoch = 0; epoch < 50; ++epoch) {
      CommitBatch batch;
      for (uint32_t stage = 0; stage < 3; ++stage) {
        StageStateChanges changes{1, stage, {}};
        for (int i = 0; i < 20; ++i) {
          const uint8_t side = uint8_t(rng() % 2);
          std::string row = "row" + std::to_string(rng() % 30);
          int64_t& have = expected[{stage, side, row}];
          int64_t weight = int64_t(rng() % 3) + 1;
          if (have > 0 && rng() % 2) weight = -int64_t(rng() % uint64_t(have)) - 1;
          have += weight;
          changes.rows.push_back({side, row, weight});
        }
        batch.state.push_back(std::move(changes));
      }
      ASSERT_TRUE(store->Commit(batch).ok());
    }
  }
  std::erase_if(expected, [](const auto& e) { return e.second == 0; });
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  Stored stored;
  for (uint32_t stage = 0; stage < 4; ++stage) {
    ASSERT_TRUE(store
                    ->ScanOperatorState(1, stage,
                                        [&](uint8_t side, std::string_view row, int64_t weight) {
                                          stored[{stage, side, std::string(row)}] += weight;
                                          return Status::OK();
                                        })
                    .ok());
  }
  std::erase_if(stored, [](const auto& e) { return e.second == 0; });
  EXPECT_EQ(stored, expected);
  EXPECT_TRUE(store
                  ->ScanOperatorState(0, 0,
                                      [](uint8_t, std::string_view, int64_t) {
                                        ADD_FAILURE() << "statement 0 has no state";
                                        return Status::OK();
                                      })
                  .ok());

  auto reset = store->DeclareTables({{"people", KeyedSchema(), "another source"}});
  ASSERT_TRUE(reset.ok() && *reset);
  size_t left = 0;
  ASSERT_TRUE(store
                  ->ScanOperatorState(1, 0,
                                      [&](uint8_t, std::string_view, int64_t) {
                                        ++left;
                                        return Status::OK();
                                      })
                  .ok());
  EXPECT_EQ(left, 0u);
}

// Changes that cancel out (an update-heavy stage) are compacted away once the stored changes
// outgrow the net rows, so a checkpoint stays proportional to the state, not to the history.
TEST_F(CacheStoreTest, OperatorStateIsCompactedWhenChangesCancelOut) {
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  for (int epoch = 0; epoch < 40; ++epoch) {
    CommitBatch batch;
    StageStateChanges changes{2, 1, {}};
    for (int i = 0; i < 5000; ++i) {
      // Row "v<n>" replaced by "v<n+1>": one insert stays, everything else cancels.
      const int n = epoch * 5000 + i;
      if (n > 0) changes.rows.push_back({0, "v" + std::to_string(n - 1), -1});
      changes.rows.push_back({0, "v" + std::to_string(n), 1});
    }
    changes.rows.push_back({1, "kept" + std::to_string(epoch), 2});
    batch.state.push_back(std::move(changes));
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  std::map<std::pair<uint8_t, std::string>, int64_t> net;
  size_t visited = 0;
  ASSERT_TRUE(store
                  ->ScanOperatorState(2, 1,
                                      [&](uint8_t side, std::string_view row, int64_t weight) {
                                        net[{side, std::string(row)}] += weight;
                                        ++visited;
                                        return Status::OK();
                                      })
                  .ok());
  std::erase_if(net, [](const auto& e) { return e.second == 0; });
  std::map<std::pair<uint8_t, std::string>, int64_t> expected{{{0, "v199999"}, 1}};
  for (int epoch = 0; epoch < 40; ++epoch) expected[{1, "kept" + std::to_string(epoch)}] = 2;
  EXPECT_EQ(net, expected);
  // 400,000 changes were committed; compaction left far fewer (at most the slack of 100,000
  // plus twice the net rows between compactions).
  EXPECT_LT(visited, 110000u);
}

TEST_F(CacheStoreTest, MapGrowsOnDemandWhileReadersRun) {
  CacheOptions options;
  options.initial_map_size = 1 << 20;  // 1 MiB; we write about 40 MiB
  auto store = OpenStore({{"people", KeyedSchema(), "src"}}, options);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done) {
      auto view = store->BeginRead();
      ASSERT_TRUE(view.ok());
      ASSERT_TRUE(view->Count(0).ok());
      ++reads;
    }
  });
  const std::string payload(400, 'x');
  for (int b = 0; b < 100; ++b) {
    CommitBatch batch;
    TableChanges t(0);
    for (int i = 0; i < 1000; ++i) t.Upsert(Key(b * 1000 + i), Row(b * 1000 + i, payload));
    batch.tables.push_back(std::move(t));
    Status s = store->Commit(batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  done = true;
  reader.join();
  EXPECT_GT(store->map_size(), size_t(40) << 20);
  EXPECT_GT(reads.load(), 0);
  auto view = store->BeginRead();
  EXPECT_EQ(*view->Count(0), 100'000u);
}

TEST_F(CacheStoreTest, ReadersSeeWholeCommitsOnly) {
  auto store = OpenStore({{"people", KeyedSchema(), "src"}});
  // Every commit rewrites all 50 rows with one generation number; a reader must never see
  // two generations at once.
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      auto rows = ReadAll(*store, 0);
      std::set<std::string> generations;
      for (auto& [id, name] : rows) generations.insert(name);
      if (generations.size() > 1) ++torn;
    }
  });
  for (int gen = 0; gen < 300; ++gen) {
    CommitBatch batch;
    TableChanges t(0);
    for (int i = 0; i < 50; ++i) t.Upsert(Key(i), Row(i, "g" + std::to_string(gen)));
    batch.tables.push_back(std::move(t));
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace sluice
