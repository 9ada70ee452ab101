#include <gtest/gtest.h>

#include <set>

#include "connectors/generator/nexmark_generator.h"
#include "connectors/generator/nexmark_source.h"

namespace sluice {
namespace {

ConnectionConfig Generator(uint64_t events, uint64_t seed = 1) {
  ConnectionConfig c;
  c.name = "gen";
  c.kind = ConnectionKind::kGenerator;
  c.generator.events = events;
  c.generator.seed = seed;
  return c;
}

SourceConfig Table(const std::string& table) {
  SourceConfig s;
  s.name = table;
  s.connection = "gen";
  s.table = table;
  s.location = {"sluice.yaml", 3, 5, "sources[0]"};
  return s;
}

std::vector<Record> RunAll(const ConnectionConfig& c, const std::string& table,
                           const std::string& start = "", std::string* last_position = nullptr,
                           size_t stop_after_batches = SIZE_MAX) {
  auto reader = OpenNexmarkSource(c, Table(table));
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Record> rows;
  size_t batches = 0;
  SourceContext ctx;
  ctx.start_position = start;
  ctx.emit = [&](OperationBatch b) {
    for (auto& op : b.ops) rows.push_back(std::move(op.new_record));
    if (last_position) *last_position = b.position;
    return ++batches < stop_after_batches;
  };
  EXPECT_TRUE((*reader)->Run(ctx).ok());
  return rows;
}

TEST(Nexmark, KeepsTheStandardMix) {
  auto c = Generator(100'000);
  EXPECT_EQ(RunAll(c, "person").size(), 2'000u);
  EXPECT_EQ(RunAll(c, "auction").size(), 6'000u);
  EXPECT_EQ(RunAll(c, "bid").size(), 92'000u);
}

TEST(Nexmark, IdsStartAt1000AndBidsReferenceExistingRows) {
  auto c = Generator(10'000);
  auto people = RunAll(c, "person");
  auto auctions = RunAll(c, "auction");
  EXPECT_EQ(people.front()[0].as_int(), 1000);
  EXPECT_EQ(auctions.front()[0].as_int(), 1000);
  std::set<int64_t> person_ids, auction_ids;
  for (auto& p : people) EXPECT_TRUE(person_ids.insert(p[0].as_int()).second) << "duplicate id";
  for (auto& a : auctions) EXPECT_TRUE(auction_ids.insert(a[0].as_int()).second);
  for (auto& a : auctions) EXPECT_TRUE(person_ids.count(a[7].as_int())) << "seller";
  for (auto& b : RunAll(c, "bid")) {
    EXPECT_TRUE(auction_ids.count(b[0].as_int())) << b[0].as_int();
    EXPECT_TRUE(person_ids.count(b[1].as_int())) << b[1].as_int();
    EXPECT_GT(b[2].as_int(), 0);
  }
}

TEST(Nexmark, DeterministicForASeedAndDifferentAcrossSeeds) {
  auto a = RunAll(Generator(5'000, 1), "bid");
  auto b = RunAll(Generator(5'000, 1), "bid");
  auto c = RunAll(Generator(5'000, 2), "bid");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Nexmark, ResumesExactlyAfterTheLastPosition) {
  auto c = Generator(50'000);
  auto all = RunAll(c, "bid");
  std::string position;
  auto first = RunAll(c, "bid", "", &position, 3);
  auto rest = RunAll(c, "bid", position);
  first.insert(first.end(), rest.begin(), rest.end());
  EXPECT_EQ(first, all);
}

TEST(Nexmark, RejectsUnknownTablesAndKeys) {
  auto bad = OpenNexmarkSource(Generator(1), Table("bids"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "sluice.yaml:3:5: sources[0]: the nexmark generator has tables person, auction and "
            "bid, not 'bids'");
  SourceConfig keyed = Table("bid");
  keyed.primary_key = {"nope"};
  EXPECT_FALSE(OpenNexmarkSource(Generator(1), keyed).ok());
}

TEST(Nexmark, RateLimitsWhenAsked) {
  auto c = Generator(2'000);
  c.generator.rate = 10'000;  // 2,000 events should take about 0.2 s
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunAll(c, "bid").size(), 1'840u);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(seconds, 0.15);
}

}  // namespace
}  // namespace sluice
