// The query layer against itself: the same data in a table with every kind of index and in
// one without any must give the same answers in the same order, for random filters, orders
// and cursor paging, through random inserts, updates and deletes. (Filter semantics against
// PostgreSQL: tests/e2e/test_query_api.py.)
#include "cache/query.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "cache/query_order.h"
#include "cache/query_parser.h"
#include "common/temp_dir.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

constexpr uint32_t kIndexed = 0, kPlain = 1, kIndexedBag = 2, kPlainBag = 3;

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(CacheStore::Open(dir_.str()).value());
    schema_ = Schema{{{"id", FieldType::kInt, false},
                      {"city", FieldType::kString, true},
                      {"score", FieldType::kFloat, true},
                      {"n", FieldType::kInt, true},
                      {"descr", FieldType::kText, true}},
                     {0}};
    bag_ = schema_;
    bag_.primary_key.clear();
    using K = IndexDefinition::Kind;
    std::vector<IndexDefinition> indexes{
        {K::kSorted, {1, 3}}, {K::kSorted, {2}}, {K::kSorted, {3}}, {K::kFullText, {4}}};
    ASSERT_TRUE(store_
                    ->DeclareTables({{"indexed", schema_, "", indexes},
                                     {"plain", schema_, "", {}},
                                     {"indexed_bag", bag_, "", indexes},
                                     {"plain_bag", bag_, "", {}}})
                    .ok());
  }

  Record RandomRow(int64_t id) {
    static const char* cities[] = {"Oslo", "Lima", "Kyiv", "Osaka", "Lyon"};
    static const char* words[] = {"blue", "Shoes", "red", "hat", "café", "BLUE"};
    std::string descr;
    for (int w = 0, n = int(rng_() % 4); w < n; ++w) {
      descr += std::string(w ? " " : "") + words[rng_() % 6] + (rng_() % 3 ? "" : ",");
    }
    Record row{Value(id), Value(cities[rng_() % 5]), Value(double(int(rng_() % 20)) / 2),
               Value(int64_t(rng_() % 10) - 3), Value(descr)};
    for (size_t c = 1; c < row.size(); ++c) {
      if (rng_() % 6 == 0) row[c] = Value::Null();
    }
    return row;
  }

  // Random upserts and deletes, applied to both keyed tables; rows added to / removed from
  // both bags alike.
  void Mutate(int changes) {
    CommitBatch batch;
    TableChanges indexed(kIndexed), plain(kPlain), indexed_bag(kIndexedBag), plain_bag(kPlainBag);
    for (int i = 0; i < changes; ++i) {
      const int64_t id = int64_t(rng_() % 150);
      std::string key;
      EncodeKeyValue(FieldType::kInt, Value(id), &key);
      if (rng_() % 4 == 0) {
        indexed.Remove(key);
        plain.Remove(key);
        if (!bag_rows_.empty()) {
          size_t victim = rng_() % bag_rows_.size();
          indexed_bag.RemoveCopy(bag_rows_[victim]);
          plain_bag.RemoveCopy(bag_rows_[victim]);
          bag_rows_.erase(bag_rows_.begin() + victim);
        }
        continue;
      }
      std::string row;
      EncodeRow(schema_, RandomRow(id), &row);
      indexed.Upsert(key, row);
      plain.Upsert(key, row);
      indexed_bag.AddCopy(row);
      plain_bag.AddCopy(row);
      bag_rows_.push_back(row);
    }
    for (auto* t : {&indexed, &plain, &indexed_bag, &plain_bag}) batch.tables.push_back(*t);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  std::string RandomFilter(int depth = 0) {
    static const char* leaf[] = {
        R"({"city": "Oslo"})",
        R"({"city": {"$in": ["Lima", "Kyiv", null, "Lima", null]}})",
        R"({"city": {"$prefix": "Os"}})",
        R"({"city": "Oslo", "n": {"$gte": 0, "$lt": 4}})",
        R"({"city": {"$ne": "Lyon"}})",
        R"({"score": {"$gt": 2.5}})",
        R"({"score": {"$lte": 4}})",
        R"({"n": 2})",
        R"({"n": {"$nin": [1, 2]}})",
        R"({"n": {"$in": [0, 5, 6, 5]}})",
        R"({"id": {"$in": [3, 4, 5, 77, 4]}})",
        R"({"id": 42})",
        R"({"id": {"$gte": 20, "$lt": 60}})",
        R"({"descr": {"$contains": "blue shoes"}})",
        R"({"descr": {"$contains": "CAFÉ"}})",
        R"({"descr": {"$matches_any": "red hat"}})",
        R"({"city": null})",
        R"({})",
    };
    const int pick = int(rng_() % (depth < 2 ? 21 : 18));
    if (pick < 18) return leaf[pick];
    std::string a = RandomFilter(depth + 1), b = RandomFilter(depth + 1);
    if (pick == 18) return R"({"$or": [)" + a + "," + b + "]}";
    if (pick == 19) return R"({"$not": )" + a + "}";
    return R"({"$and": [)" + a + "," + b + "]}";
  }

  std::string RandomOrder() {
    static const char* orders[] = {"",
                                   R"(, "$order_by": {"score": "desc"})",
                                   R"(, "$order_by": {"n": "asc"})",
                                   R"(, "$order_by": {"n": "desc"})",
                                   R"(, "$order_by": {"city": "asc", "n": "asc"})",
                                   R"(, "$order_by": {"city": "desc", "n": "desc"})",
                                   R"(, "$order_by": {"id": "desc"})",
                                   R"(, "$order_by": {"descr": "asc", "score": "desc"})"};
    return orders[rng_() % 8];
  }

  // Every row of the answer as (row bytes), following cursors page by page.
  std::vector<std::string> Answer(uint32_t table, const std::string& body, uint64_t page,
                                  int* pages = nullptr) {
    const Schema& schema = table < 2 ? schema_ : bag_;
    auto spec = ParseQueryJson(schema, body, QueryBodyKind::kQuery);
    EXPECT_TRUE(spec.ok()) << body << ": " << spec.status().ToString();
    spec->limit = page;
    std::vector<std::string> rows;
    for (int n = 0; n < 10000; ++n) {
      auto view = store_->BeginRead();
      std::optional<std::string> cursor;
      Status s = RunQuery(
          *view, table, *spec,
          [&](std::string_view row) {
            rows.emplace_back(row);
            return true;
          },
          &cursor);
      EXPECT_TRUE(s.ok()) << body << ": " << s.ToString();
      if (pages) *pages = n + 1;
      if (!cursor) break;
      spec->after = *cursor;
    }
    return rows;
  }

  std::mt19937_64 rng_{20261123};
  TempDir dir_{"sluice_query_test"};
  std::unique_ptr<CacheStore> store_;
  Schema schema_, bag_;
  std::vector<std::string> bag_rows_;
};

TEST_F(QueryTest, IndexedAndPlainTablesAgreeThroughChanges) {
  for (int round = 0; round < 12; ++round) {
    Mutate(60);
    for (int q = 0; q < 40; ++q) {
      const std::string body = "{\"$filter\": " + RandomFilter() + RandomOrder() + "}";
      const auto expected = Answer(kPlain, body, 100000);
      ASSERT_EQ(Answer(kIndexed, body, 100000), expected) << body;
      int pages = 0;
      ASSERT_EQ(Answer(kIndexed, body, 7, &pages), expected) << body << " paged by 7";
      // A cursor comes only while more rows follow.
      EXPECT_EQ(pages, std::max<int>(1, int((expected.size() + 6) / 7))) << body;
      auto sorted = [](std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
      };
      // Bags keep insertion order only among equal sort keys: compare as multisets.
      ASSERT_EQ(sorted(Answer(kIndexedBag, body, 100000)), sorted(Answer(kPlainBag, body, 100000)))
          << body;
      ASSERT_EQ(Answer(kIndexedBag, body, 5), Answer(kIndexedBag, body, 100000)) << body;
      auto spec = ParseQueryJson(schema_, body, QueryBodyKind::kCount);
      if (spec.ok()) {
        auto view = store_->BeginRead();
        EXPECT_EQ(*CountQuery(*view, kIndexed, spec->filter),
                  *CountQuery(*view, kPlain, spec->filter));
        EXPECT_EQ(*CountQuery(*view, kIndexed, spec->filter), expected.size()) << body;
      }
    }
  }
}

TEST_F(QueryTest, CursorPagingNeitherSkipsNorRepeatsWhileDataChanges) {
  Mutate(300);
  int64_t next_new_id = 1000;  // rows added between pages: never updated afterwards
  for (const char* body : {R"({"$order_by": {"score": "desc"}})", R"({"$order_by": {"n": "asc"}})",
                           R"({})", R"({"$filter": {"city": "Oslo"}, "$order_by": {"n": "asc"}})",
                           R"({"$order_by": {"descr": "desc"}})"}) {
    auto spec = ParseQueryJson(schema_, body, QueryBodyKind::kQuery).value();
    const std::vector<std::string> before = Answer(kIndexed, body, 100000);
    spec.limit = 4;
    const ResultOrder order(schema_, spec.order_by);
    std::set<int64_t> seen;
    std::string previous;
    for (int n = 0; n < 1000; ++n) {
      std::optional<std::string> cursor;
      std::vector<int64_t> page;
      {
        auto view = store_->BeginRead();
        ASSERT_TRUE(RunQuery(
                        *view, kIndexed, spec,
                        [&](std::string_view row) {
                          Record r = DecodeRow(schema_, row).value();
                          page.push_back(r[0].as_int());
                          std::string id;
                          EncodeKeyValue(FieldType::kInt, r[0], &id);
                          std::string key = order.SortKey(order.PositionOf(r, id));
                          EXPECT_LT(previous, key) << body << ": out of order";
                          previous = key;
                          return true;
                        },
                        &cursor)
                        .ok());
      }
      for (int64_t id : page) EXPECT_TRUE(seen.insert(id).second) << body << ": repeated " << id;
      if (!cursor) break;
      spec.after = *cursor;
      // Between pages: new rows arrive and rows already returned go away.
      CommitBatch batch;
      TableChanges changes(kIndexed);
      for (int i = 0; i < 3; ++i) {
        std::string key, row;
        EncodeKeyValue(FieldType::kInt, Value(next_new_id), &key);
        EncodeRow(schema_, RandomRow(next_new_id++), &row);
        changes.Upsert(key, row);
      }
      std::string gone;
      EncodeKeyValue(FieldType::kInt, Value(page.front()), &gone);
      changes.Remove(gone);
      batch.tables.push_back(std::move(changes));
      ASSERT_TRUE(store_->Commit(batch).ok());
    }
    // Every row there before paging started (and never touched) came exactly once.
    for (const std::string& row : before) {
      EXPECT_TRUE(seen.count(DecodeRow(schema_, row).value()[0].as_int())) << body << ": skipped";
    }
  }
}

TEST_F(QueryTest, ExplainShowsTheChosenIndex) {
  Mutate(2000);
  auto explain = [&](const char* body) {
    auto spec = ParseQueryJson(schema_, body, QueryBodyKind::kExplain).value();
    auto view = store_->BeginRead();
    return ExplainQuery(*view, kIndexed, spec).value();
  };
  EXPECT_NE(explain(R"({"$filter": {"id": 5}})").find("key_lookup"), std::string::npos);
  EXPECT_NE(explain(R"({"$filter": {"city": "Oslo", "n": 2}})").find("sorted(city, n)"),
            std::string::npos);
  EXPECT_NE(explain(R"({"$filter": {"descr": {"$contains": "blue"}}})").find("words"),
            std::string::npos);
  EXPECT_NE(explain(R"({"$order_by": {"score": "desc"}, "$limit": 5})").find("sorted(score)"),
            std::string::npos);
  EXPECT_NE(explain(R"({"$filter": {"descr": {"$prefix": "b"}}})").find("rows_scan"),
            std::string::npos);
}

// Two words each in thousands of rows but together in few: every estimate is capped, so the
// planner streams in order; the executor must give up on that after its budget and use the
// postings, and the answer must stay exact either way.
TEST_F(QueryTest, CommonWordsFewMatchesUseThePostings) {
  CommitBatch batch;
  TableChanges indexed(kIndexed), plain(kPlain);
  for (int64_t id = 0; id < 12000; ++id) {
    std::string descr = id % 2 ? "blue" : "red";
    if (id % 3 == 0) descr += " shoes";
    if (id % 997 == 5) descr = "blue shoes";  // rows with both words are rare
    Record r{Value(id), Value("Oslo"), Value(1.0), Value(int64_t(id % 7)), Value(descr)};
    std::string key, row;
    EncodeKeyValue(FieldType::kInt, r[0], &key);
    EncodeRow(schema_, r, &row);
    indexed.Upsert(key, row);
    plain.Upsert(key, row);
  }
  batch.tables.push_back(std::move(indexed));
  batch.tables.push_back(std::move(plain));
  ASSERT_TRUE(store_->Commit(batch).ok());
  for (const char* body :
       {R"({"$filter": {"descr": {"$contains": "blue shoes"}}})",
        R"({"$filter": {"descr": {"$contains": "shoes blue"}, "n": {"$ne": 3}}})",
        R"({"$filter": {"descr": {"$contains": "blue shoes"}}, "$order_by": {"n": "desc"}})",
        R"({"$filter": {"descr": {"$matches_any": "shoes"}, "id": {"$lt": 40}}})"}) {
    const auto expected = Answer(kPlain, body, 100000);
    ASSERT_FALSE(expected.empty()) << body;
    EXPECT_EQ(Answer(kIndexed, body, 100000), expected) << body;
    EXPECT_EQ(Answer(kIndexed, body, 3), expected) << body << " paged by 3";
  }
  auto spec = ParseQueryJson(schema_, R"({"$filter": {"descr": {"$contains": "blue shoes"}}})",
                             QueryBodyKind::kExplain)
                  .value();
  auto view = store_->BeginRead();
  const std::string plan = ExplainQuery(*view, kIndexed, spec).value();
  EXPECT_NE(plan.find("\"access\":\"words\""), std::string::npos) << plan;
}

TEST_F(QueryTest, ParseErrorsNameTheJsonPath) {
  auto error = [&](const char* body) {
    auto spec = ParseQueryJson(schema_, body, QueryBodyKind::kQuery);
    return spec.ok() ? std::string("ok") : spec.status().message();
  };
  EXPECT_EQ(error(R"({"$filter": {"score": {"$gte": "x"}}})").rfind("$filter.score.$gte: ", 0), 0u);
  EXPECT_EQ(error(R"({"$filter": {"nope": 1}})"), "$filter.nope: unknown field 'nope'");
  EXPECT_EQ(error(R"({"$filter": {"n": {"$almost": 1}}})")
                .rfind("$filter.n.$almost: unknown operator", 0),
            0u);
  EXPECT_EQ(
      error(R"({"$filter": {"$or": [{"n": 1}, {"city": 3}]}})").rfind("$filter.$or[1].city: ", 0),
      0u);
  EXPECT_EQ(error(R"({"$filter": {"n": {"$prefix": "a"}}})").rfind("$filter.n.$prefix: ", 0), 0u);
  EXPECT_EQ(error(R"({"$order_by": {"n": "up"}})"), "$order_by.n: expected \"asc\" or \"desc\"");
  EXPECT_EQ(error(R"({"$limit": 10001})"), "$limit: must be at most 10000");
  auto spec = ParseQueryJson(schema_, R"({"$after": "garbage!"})", QueryBodyKind::kQuery).value();
  auto view = store_->BeginRead();
  Status s = RunQuery(*view, kIndexed, spec, [](std::string_view) { return true; });
  EXPECT_EQ(s.message().rfind("$after: malformed cursor", 0), 0u) << s.ToString();
}

// No filter can ask for unbounded work: nesting, terms and operand sizes are capped with an
// error naming where; words said twice are looked up once.
TEST_F(QueryTest, FiltersAreBounded) {
  auto error = [&](const std::string& body) {
    auto spec = ParseQueryJson(schema_, body, QueryBodyKind::kQuery);
    return spec.ok() ? std::string("ok") : spec.status().message();
  };
  auto nested = [](int levels) {
    std::string f = R"({"n": 1})";
    for (int i = 0; i < levels; ++i) f = R"({"$not": )" + f + "}";
    return R"({"$filter": )" + f + "}";
  };
  EXPECT_EQ(error(nested(32)), "ok");
  EXPECT_NE(error(nested(33)).find("nest at most 32"), std::string::npos) << error(nested(33));
  auto list = [](int n) {
    std::string values;
    for (int i = 0; i < n; ++i) values += (i ? "," : "") + std::to_string(i);
    return R"({"$filter": {"n": {"$nin": [)" + values + "]}}}";
  };
  EXPECT_EQ(error(list(10000)), "ok");
  EXPECT_EQ(error(list(10001)).rfind("$filter.n.$nin[10000]: a filter holds at most 10000", 0), 0u)
      << error(list(10001));
  const std::string big(16 * 1024 + 1, 'x');
  EXPECT_EQ(error(R"({"$filter": {"city": ")" + big + R"("}})").rfind("$filter.city: a string", 0),
            0u);
  EXPECT_EQ(error(R"({"$filter": {"city": {"$prefix": ")" + big + R"("}}})")
                .rfind("$filter.city.$prefix: a string", 0),
            0u);
  std::string repeated;
  for (int i = 0; i < 2000; ++i) repeated += "shoes ";
  auto spec = ParseQueryJson(
      schema_, R"({"$filter": {"descr": {"$matches_any": ")" + repeated + R"(blue"}}})",
      QueryBodyKind::kQuery);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->filter.words, (std::vector<std::string>{"shoes", "blue"}));
}

}  // namespace
}  // namespace sluice
