#include "cache/query.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(CacheStore::Open(dir_.str()).value());
    schema_ = Schema{{{"id", FieldType::kInt, false},
                      {"city", FieldType::kString, true},
                      {"score", FieldType::kFloat, true}},
                     {0}};
    multiset_ = schema_;
    multiset_.primary_key.clear();
    ASSERT_TRUE(store_->DeclareTables({{"keyed", schema_, ""}, {"multi", multiset_, ""}}).ok());
    CommitBatch batch;
    TableChanges keyed(0), multi(1);
    const char* cities[] = {"Oslo", "Lima", "Oslo", "Kyiv", "Oslo"};
    for (int64_t id = 1; id <= 5; ++id) {
      Record r{Value(id), id == 4 ? Value::Null() : Value(cities[id - 1]), Value(id * 0.5)};
      std::string key, row;
      EncodeKey(schema_, r, schema_.primary_key, &key);
      EncodeRow(schema_, r, &row);
      keyed.Upsert(key, row);
      multi.AddCopy(row);
      multi.AddCopy(row);  // every row twice
    }
    batch.tables.push_back(std::move(keyed));
    batch.tables.push_back(std::move(multi));
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  std::vector<int64_t> Ids(uint32_t table, const Query& q) {
    auto view = store_->BeginRead();
    std::vector<int64_t> ids;
    const Schema& schema = table == 0 ? schema_ : multiset_;
    Status s = RunQuery(*view, table, schema, q, [&](std::string_view row) {
      ids.push_back(DecodeRow(schema, row).value()[0].as_int());
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ids;
  }

  TempDir dir_{"sluice_query_test"};
  std::unique_ptr<CacheStore> store_;
  Schema schema_, multiset_;
};

TEST_F(QueryTest, FiltersPagesAndUsesTheKey) {
  Query q;
  EXPECT_EQ(Ids(0, q), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  q.filter.terms = {{1, Value("Oslo")}};
  EXPECT_EQ(Ids(0, q), (std::vector<int64_t>{1, 3, 5}));
  q.skip = 1;
  q.limit = 1;
  EXPECT_EQ(Ids(0, q), (std::vector<int64_t>{3}));
  Query by_key;
  by_key.filter.terms = {{0, Value(int64_t{3})}};
  EXPECT_EQ(Ids(0, by_key), (std::vector<int64_t>{3}));
  by_key.filter.terms.push_back({1, Value("Lima")});  // key matches, other column does not
  EXPECT_TRUE(Ids(0, by_key).empty());
}

TEST_F(QueryTest, NullNeverMatches) {
  Query q;
  q.filter.terms = {{1, Value::Null()}};
  EXPECT_TRUE(Ids(0, q).empty());
}

TEST_F(QueryTest, MultisetRepeatsCopiesAndCounts) {
  Query q;
  q.filter.terms = {{1, Value("Lima")}};
  EXPECT_EQ(Ids(1, q), (std::vector<int64_t>{2, 2}));
  auto view = store_->BeginRead();
  EXPECT_EQ(*CountQuery(*view, 1, multiset_, {}), 10u);
  EXPECT_EQ(*CountQuery(*view, 1, multiset_, q.filter), 2u);
  EXPECT_EQ(*CountQuery(*view, 0, schema_, {{{1, Value("Oslo")}}}), 3u);
  Query paged;
  paged.skip = 3;
  paged.limit = 4;
  EXPECT_EQ(Ids(1, paged).size(), 4u);
}

}  // namespace
}  // namespace sluice
