#include "server/http/rest_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/temp_dir.h"
#include "types/base64url.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/utf8.h"

namespace sluice {
namespace {

class RestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(CacheStore::Open(dir_.str()).value());
    keyed_ = Schema{{{"id", FieldType::kInt, false},
                     {"title", FieldType::kString, true},
                     {"price", FieldType::kDecimal, true},
                     {"big", FieldType::kInt, true}},
                    {0}};
    multiset_ = keyed_;
    multiset_.primary_key.clear();
    ASSERT_TRUE(store_->DeclareTables({{"products", keyed_, ""}, {"log", multiset_, ""}}).ok());
    CommitBatch batch;
    TableChanges products(0), log(1);
    for (int64_t id = 1; id <= 120; ++id) {
      Record r{Value(id), Value("item " + std::to_string(id)),
               Value(*Decimal::Parse(std::to_string(id) + ".50")),
               id == 7 ? Value(int64_t{9007199254740993}) : Value::Null()};
      std::string key, row;
      EncodeKey(keyed_, r, keyed_.primary_key, &key);
      EncodeRow(keyed_, r, &row);
      products.Upsert(key, row);
      if (id <= 3) log.AddCopy(row);
    }
    batch.tables.push_back(std::move(products));
    batch.tables.push_back(std::move(log));
    ASSERT_TRUE(store_->Commit(batch).ok());
    api_ = std::make_unique<RestApi>(
        "shop", *store_,
        std::vector<RestEndpoint>{{"products", "/products", "products", keyed_, 0},
                                  {"log", "/ops/log", "log", multiset_, 1}});
  }
  HttpResponse Get(const std::string& target) { return api_->Handle({"GET", target, ""}); }
  HttpResponse Post(const std::string& target, const std::string& body) {
    return api_->Handle({"POST", target, body});
  }
  static size_t CountRecords(const std::string& body) {
    size_t n = 0;
    for (size_t at = body.find("\"id\":"); at != std::string::npos;
         at = body.find("\"id\":", at + 1))
      ++n;
    return n;
  }

  TempDir dir_{"sluice_rest_test"};
  std::unique_ptr<CacheStore> store_;
  std::unique_ptr<RestApi> api_;
  Schema keyed_, multiset_;
};

TEST_F(RestApiTest, IndexAndHealth) {
  auto index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("\"path\":\"/products\""), std::string::npos);
  EXPECT_NE(index.body.find("{\"name\":\"price\",\"type\":\"decimal\",\"nullable\":true}"),
            std::string::npos);
  EXPECT_NE(index.body.find("\"primary_key\":null"), std::string::npos);  // the multiset
  EXPECT_EQ(Get("/health").status, 200);
}

TEST_F(RestApiTest, GetByIdFormatsValuesPerContract) {
  auto r = Get("/products/7");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "{\"id\":7,\"title\":\"item 7\",\"price\":\"7.50\",\"big\":\"9007199254740993\"}");
  EXPECT_EQ(Get("/products/999").status, 404);
  auto bad = Get("/products/abc");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("invalid int 'abc'"), std::string::npos) << bad.body;
  auto keyless = Get("/ops/log/1");
  EXPECT_EQ(keyless.status, 404);
  EXPECT_NE(keyless.body.find("has no primary key"), std::string::npos);
}

TEST_F(RestApiTest, ListPagesWithDefaultsAndLimits) {
  auto all = Get("/products");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(CountRecords(all.body), 50u);  // default limit
  auto page = Get("/products?limit=2&skip=10");
  EXPECT_EQ(page.body.substr(0, 14), "[{\"id\":11,\"tit");
  EXPECT_EQ(CountRecords(page.body), 2u);
  EXPECT_EQ(CountRecords(Get("/products?limit=10000").body), 120u);
  EXPECT_EQ(Get("/products?limit=10001").status, 400);
  EXPECT_EQ(Get("/products?limit=-1").status, 400);
  EXPECT_EQ(Get("/products?colour=red").status, 400);
  for (const char* id : {"{\"id\":1,", "{\"id\":2,", "{\"id\":3,"}) {
    EXPECT_NE(Get("/ops/log").body.find(id), std::string::npos) << id;
  }
  EXPECT_EQ(CountRecords(Get("/ops/log").body), 3u);
}

TEST_F(RestApiTest, QueryAndCount) {
  auto q = Post("/products/query", R"({"$filter": {"title": "item 5"}})");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(CountRecords(q.body), 1u);
  EXPECT_NE(q.body.find("\"id\":5"), std::string::npos);
  auto by_key = Post("/products/query", R"({"$filter": {"id": 9}, "$limit": 5})");
  EXPECT_NE(by_key.body.find("\"id\":9"), std::string::npos);
  auto paged = Post("/products/query", R"({"$limit": 3, "$skip": 100})");
  EXPECT_EQ(CountRecords(paged.body), 3u);
  EXPECT_EQ(Post("/products/count", "").body, "{\"count\":120}");
  EXPECT_EQ(Post("/products/count", R"({"$filter": {"price": "3.5"}})").body, "{\"count\":1}");
  EXPECT_EQ(Post("/ops/log/count", "{}").body, "{\"count\":3}");
}

// null in a JSON filter means IS NULL ($eq) and IS NOT NULL ($ne); other comparisons with
// null stay unknown (SQL). Only product 7 has a `big` value.
TEST_F(RestApiTest, NullInAFilterMeansIsNull) {
  auto count = [&](const std::string& filter) {
    return Post("/products/count", R"({"$filter": )" + filter + "}").body;
  };
  EXPECT_EQ(count(R"({"big": null})"), "{\"count\":119}");
  EXPECT_EQ(count(R"({"big": {"$eq": null}})"), "{\"count\":119}");
  EXPECT_EQ(count(R"({"big": {"$ne": null}})"), "{\"count\":1}");
  EXPECT_EQ(count(R"({"$not": {"big": null}})"), "{\"count\":1}");
  EXPECT_EQ(count(R"({"big": null, "id": {"$lt": 10}})"), "{\"count\":8}");
  EXPECT_EQ(count(R"({"big": {"$gt": null}})"), "{\"count\":0}");
  EXPECT_EQ(count(R"({"big": {"$lt": null}})"), "{\"count\":0}");
  EXPECT_EQ(count(R"({"big": {"$in": [null]}})"), "{\"count\":0}");
  EXPECT_EQ(count(R"({"id": null})"), "{\"count\":0}");  // a key column is never null
  auto rows = Post("/products/query", R"({"$filter": {"big": {"$ne": null}}})");
  EXPECT_EQ(CountRecords(rows.body), 1u);
  EXPECT_NE(rows.body.find("\"id\":7"), std::string::npos) << rows.body;
}

// /count takes the same query object as /query and counts what that page would hold.
TEST_F(RestApiTest, CountHonoursSkipLimitAndCursors) {
  EXPECT_EQ(Post("/products/count", R"({"$limit": 10})").body, "{\"count\":10}");
  EXPECT_EQ(Post("/products/count", R"({"$skip": 115, "$limit": 10})").body, "{\"count\":5}");
  EXPECT_EQ(Post("/products/count", R"({"$skip": 500})").body, "{\"count\":0}");
  EXPECT_EQ(Post("/products/count", R"({"$filter": {"id": {"$lte": 30}}, "$skip": 25,
                                         "$order_by": {"price": "desc"}})")
                .body,
            "{\"count\":5}");
  EXPECT_EQ(Post("/ops/log/count", R"({"$skip": 1, "$limit": 1})").body, "{\"count\":1}");
  auto first = Post("/products/query", R"({"$limit": 100})");
  ASSERT_EQ(first.status, 200);
  std::string cursor;
  for (const auto& [name, value] : first.headers) {
    if (name == "X-Sluice-Cursor") cursor = value;
  }
  ASSERT_FALSE(cursor.empty());
  EXPECT_EQ(Post("/products/count", R"({"$after": ")" + cursor + R"("})").body, "{\"count\":20}");
  EXPECT_EQ(Post("/products/count", R"({"$limit": 0})").body, "{\"count\":0}");
}

// Cursors are opaque: nothing of the last row (its key, its order values) can be read from
// one, a changed cursor is refused, and a cursor of one endpoint does not work on another.
TEST_F(RestApiTest, CursorsAreOpaqueAndTamperProof) {
  auto first = Post("/products/query", R"({"$limit": 1, "$order_by": {"price": "desc"}})");
  ASSERT_EQ(first.status, 200);
  ASSERT_NE(first.body.find("\"id\":120"), std::string::npos) << first.body;
  std::string cursor;
  for (const auto& [name, value] : first.headers) {
    if (name == "X-Sluice-Cursor") cursor = value;
  }
  ASSERT_FALSE(cursor.empty());
  auto raw = DecodeBase64Url(cursor);
  ASSERT_TRUE(raw.has_value());
  std::string id_key, price_key;
  EncodeKeyValue(FieldType::kInt, Value(int64_t{120}), &id_key);
  EncodeKeyValue(FieldType::kDecimal, Value(*Decimal::Parse("120.50")), &price_key);
  EXPECT_EQ(raw->find(id_key), std::string::npos) << "the cursor shows the row's key";
  EXPECT_EQ(raw->find(price_key), std::string::npos) << "the cursor shows the order value";
  // Two cursors for the same position differ (a fresh nonce each), so they reveal no equality.
  auto again = Post("/products/query", R"({"$limit": 1, "$order_by": {"price": "desc"}})");
  for (const auto& [name, value] : again.headers) {
    if (name == "X-Sluice-Cursor") {
      EXPECT_NE(value, cursor);
    }
  }
  auto next =
      Post("/products/query",
           R"({"$limit": 1, "$order_by": {"price": "desc"}, "$after": ")" + cursor + R"("})");
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_NE(next.body.find("\"id\":119"), std::string::npos) << next.body;
  for (size_t at : {size_t{0}, cursor.size() / 2, cursor.size() - 1}) {
    std::string bad = cursor;
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    auto r =
        Post("/products/query", R"({"$order_by": {"price": "desc"}, "$after": ")" + bad + R"("})");
    EXPECT_EQ(r.status, 400) << "tampered at " << at << ": " << r.body;
  }
  auto foreign =
      Post("/ops/log/query", R"({"$order_by": {"price": "desc"}, "$after": ")" + cursor + R"("})");
  EXPECT_EQ(foreign.status, 400) << foreign.body;
}

TEST_F(RestApiTest, BadRequestsGetClearErrors) {
  auto expect = [&](const HttpResponse& r, int status, const std::string& fragment) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(fragment), std::string::npos) << r.body;
    EXPECT_EQ(r.body.rfind("{\"error\":{\"code\":", 0), 0u) << r.body;
  };
  expect(Post("/products/query", "{not json"), 400, "not valid JSON");
  expect(Post("/products/query", "[1]"), 400, "must be a JSON object");
  expect(Post("/products/query", R"({"$filter": {"colour": 1}})"), 400,
         "$filter.colour: unknown field 'colour'");
  expect(Post("/products/query", R"({"$filter": {"id": "x"}})"), 400, "$filter.id:");
  expect(Post("/products/query", R"({"$limit": -4})"), 400, "$limit");
  expect(Post("/products/query", R"({"$sort": {}})"), 400, "unknown key '$sort'");
  expect(Post("/products", "{}"), 405, "not allowed");
  expect(Get("/nothing"), 404, "no route");
  expect(api_->Handle({"DELETE", "/products/1", ""}), 405, "not allowed");
  expect(Get("/products/%zz"), 400, "percent-encoding");
  // Bytes of the request quoted in a message never make the body invalid UTF-8 / JSON.
  for (const char* target :
       {"/products/%ff", "/products/%C3%28", "/products?limit=%ff%fe", "/products?filter=%ff"}) {
    auto r = Get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_TRUE(IsValidUtf8(r.body)) << target << ": " << r.body;
    simdjson::dom::parser parser;
    EXPECT_FALSE(parser.parse(r.body).error()) << target << ": " << r.body;
  }
}

}  // namespace
}  // namespace sluice
