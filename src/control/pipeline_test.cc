#include "control/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "cache/query.h"
#include "common/temp_dir.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  Config MakeConfig(uint64_t events) {
    std::string yaml = R"(
connections:
  - {name: gen, kind: generator, events: )" +
                       std::to_string(events) + R"(, seed: 3}
sources:
  - {name: bid, connection: gen}
  - {name: person, connection: gen}
endpoints:
  - {name: bids, path: /bids, table: bid}
  - {name: bids_by_auction, path: /by_auction, table: bid, primary_key: [auction]}
  - {name: people, path: /people, table: person}
)";
    auto c = ParseConfig(yaml, "test.yaml");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }

  // Runs the pipeline until idle (or until `stop_after_rows` bid rows are committed).
  void RunOnce(const Config& config, uint64_t stop_after_rows = UINT64_MAX) {
    auto pipeline = Pipeline::Build(config);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    auto store = CacheStore::Open(dir_->str());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->DeclareTables((*pipeline)->TableDefinitions()).ok());
    ASSERT_TRUE((*pipeline)->Start(store->get()).ok());
    while (!(*pipeline)->idle()) {
      if ((*pipeline)->stats()[0].committed_rows >= stop_after_rows) (*pipeline)->RequestStop();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE((*pipeline)->Wait().ok());
  }

  // Every row of every endpoint, as debug strings, with multiplicity.
  std::map<std::string, std::multiset<std::string>> Snapshot(const Config& config) {
    auto pipeline = Pipeline::Build(config);
    auto store = CacheStore::Open(dir_->str());
    EXPECT_TRUE((*store)->DeclareTables((*pipeline)->TableDefinitions()).ok());
    std::map<std::string, std::multiset<std::string>> out;
    auto view = (*store)->BeginRead();
    for (const auto& e : (*pipeline)->RestEndpoints()) {
      EXPECT_TRUE(view->Scan(e.cache_table,
                             [&](std::string_view row, uint64_t) {
                               std::string s;
                               Record record = DecodeRow(e.schema, row).value();
                               for (const auto& v : record) {
                                 s += v.DebugString() + "|";
                               }
                               out[e.name].insert(s);
                               return true;
                             })
                      .ok());
    }
    return out;
  }

  std::unique_ptr<TempDir> dir_ = std::make_unique<TempDir>("sluice_pipeline_test");
};

TEST_F(PipelineTest, LoadsEveryEndpoint) {
  Config config = MakeConfig(50'000);
  RunOnce(config);
  auto snapshot = Snapshot(config);
  EXPECT_EQ(snapshot["bids"].size(), 46'000u);
  EXPECT_EQ(snapshot["people"].size(), 1'000u);
  // Keyed by auction: one row per distinct auction, the last bid wins.
  EXPECT_GT(snapshot["bids_by_auction"].size(), 100u);
  EXPECT_LT(snapshot["bids_by_auction"].size(), 46'000u);
}

TEST_F(PipelineTest, StopAndRestartLosesAndDuplicatesNothing) {
  Config config = MakeConfig(200'000);
  RunOnce(config);
  auto uninterrupted = Snapshot(config);
  dir_ = std::make_unique<TempDir>("sluice_pipeline_test");

  Config paced = config;
  paced.connections[0].generator.rate = 400'000;  // about half a second for the whole stream
  RunOnce(paced, 20'000);                         // graceful stop part-way
  auto partial = Snapshot(config);
  EXPECT_LT(partial["bids"].size(), 184'000u);
  EXPECT_GE(partial["bids"].size(), 20'000u);
  RunOnce(config);  // resumes from the committed positions
  auto resumed = Snapshot(config);
  for (const auto& [name, rows] : uninterrupted) {
    EXPECT_EQ(resumed[name].size(), rows.size()) << name;
    EXPECT_TRUE(resumed[name] == rows) << name;
  }
}

TEST_F(PipelineTest, BadEndpointKeyNamesTheConfigLocation) {
  Config config = MakeConfig(10);
  config.endpoints[0].primary_key = std::vector<std::string>{"nope"};
  auto pipeline = Pipeline::Build(config);
  ASSERT_FALSE(pipeline.ok());
  EXPECT_NE(pipeline.status().message().find("test.yaml:"), std::string::npos);
  EXPECT_NE(pipeline.status().message().find("unknown column 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
