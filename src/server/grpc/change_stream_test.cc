#include "server/grpc/change_stream.h"

#include <gtest/gtest.h>

#include <atomic>

#include "cache/query_parser.h"
#include "common/temp_dir.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice::grpc_api {
namespace {

Schema OrdersSchema() {
  return Schema{{{"id", FieldType::kInt, false}, {"total", FieldType::kInt, true}}, {0}};
}

// Renders events as "kind:epoch:old->new:snapshot" with rows as "id/total".
std::string RowText(std::string_view row) {
  if (row.empty()) return "-";
  auto r = DecodeRow(OrdersSchema(), row);
  if (!r.ok()) return "?";
  return std::to_string((*r)[0].as_int()) + "/" +
         ((*r)[1].is_null() ? "null" : std::to_string((*r)[1].as_int()));
}

Result<std::string> Render(const StreamEvent& e) {
  return std::to_string(int(e.kind)) + ":" + std::to_string(e.epoch) + ":" + RowText(e.old_row) +
         "->" + RowText(e.new_row) + (e.snapshot ? ":s" : "");
}

class ChangeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = CacheStore::Open(dir_.str());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->DeclareTables({{"orders", OrdersSchema(), "test", {}}}).ok());
    endpoint_ = RestEndpoint{"orders", "/orders", "orders", OrdersSchema(), 0};
  }

  void Upsert(int64_t id, int64_t total, uint64_t epoch) {
    std::string key, row;
    EncodeKeyValue(FieldType::kInt, Value(id), &key);
    EncodeRow(OrdersSchema(), {Value(id), Value(total)}, &row);
    CommitBatch batch;
    batch.epoch = epoch;
    batch.tables.emplace_back(0).Upsert(key, row);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  void Remove(int64_t id, uint64_t epoch) {
    std::string key;
    EncodeKeyValue(FieldType::kInt, Value(id), &key);
    CommitBatch batch;
    batch.epoch = epoch;
    batch.tables.emplace_back(0).Remove(key);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  std::unique_ptr<ChangeStream> Open(std::string_view filter_json, bool snapshot,
                                     size_t max_pending = ChangeStream::kMaxPending) {
    FilterNode filter;
    if (!filter_json.empty()) {
      auto f = ParseFilterJson(OrdersSchema(), filter_json);
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      filter = *f;
    }
    auto stream = ChangeStream::Open(
        *store_, endpoint_, filter, snapshot, Render, [this] { ++wakes_; }, max_pending);
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    return std::move(*stream);
  }

  static std::vector<std::string> TakeAll(ChangeStream& stream) {
    std::vector<std::string> out;
    while (true) {
      auto next = stream.Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !next->has_value()) return out;
      out.push_back(**next);
    }
  }

  TempDir dir_;
  std::unique_ptr<CacheStore> store_;
  RestEndpoint endpoint_;
  std::atomic<int> wakes_{0};
};

TEST_F(ChangeStreamTest, SnapshotThenLiveChanges) {
  Upsert(1, 10, 1);
  Upsert(2, 20, 1);
  auto stream = Open("", true);
  EXPECT_EQ(TakeAll(*stream),
            (std::vector<std::string>{"1:0:-->1/10:s", "1:0:-->2/20:s", "4:0:-->-"}));
  Upsert(3, 30, 2);
  Upsert(1, 11, 3);
  Remove(2, 4);
  EXPECT_GE(wakes_, 3);
  EXPECT_EQ(TakeAll(*stream),
            (std::vector<std::string>{"1:2:-->3/30", "2:3:1/10->1/11", "3:4:2/20->-"}));
  EXPECT_FALSE(stream->end());
}

TEST_F(ChangeStreamTest, FilterTurnsUpdatesLeavingOrEnteringIntoDeletesAndInserts) {
  Upsert(1, 10, 1);
  Upsert(2, 50, 1);
  auto stream = Open(R"({"total": {"$gte": 40}})", true);
  EXPECT_EQ(TakeAll(*stream), (std::vector<std::string>{"1:0:-->2/50:s", "4:0:-->-"}));
  Upsert(1, 45, 2);  // enters: insert
  Upsert(2, 5, 3);   // leaves: delete of the old row
  Upsert(3, 1, 4);   // never matches
  Upsert(1, 46, 5);  // stays: update
  Remove(3, 6);      // not matching: nothing
  EXPECT_EQ(TakeAll(*stream),
            (std::vector<std::string>{"1:2:-->1/45", "3:3:2/50->-", "2:5:1/45->1/46"}));
}

TEST_F(ChangeStreamTest, WithoutSnapshotOnlyLaterChanges) {
  Upsert(1, 10, 1);
  auto stream = Open("", false);
  EXPECT_TRUE(TakeAll(*stream).empty());
  Upsert(1, 12, 2);
  EXPECT_EQ(TakeAll(*stream), (std::vector<std::string>{"2:2:1/10->1/12"}));
}

TEST_F(ChangeStreamTest, AConsumerThatFallsBehindIsEndedWithResourceExhausted) {
  auto stream = Open("", false, /*max_pending=*/2);
  Upsert(1, 1, 1);
  Upsert(2, 2, 2);
  Upsert(3, 3, 3);  // a third pending event overflows the queue
  EXPECT_TRUE(TakeAll(*stream).empty());
  ASSERT_TRUE(stream->end().has_value());
  EXPECT_EQ(stream->end()->code(), StatusCode::kResourceExhausted);
  EXPECT_NE(stream->end()->message().find("too slow"), std::string::npos)
      << stream->end()->message();
}

TEST_F(ChangeStreamTest, UnsubscribesWhenDestroyed) {
  auto stream = Open("", false);
  EXPECT_TRUE(store_->feed().HasSubscribers(0));
  stream.reset();
  EXPECT_FALSE(store_->feed().HasSubscribers(0));
}

}  // namespace
}  // namespace sluice::grpc_api
