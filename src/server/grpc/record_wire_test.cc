#include "server/grpc/record_wire.h"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>

#include "server/grpc/endpoint_proto.h"
#include "types/row_codec.h"

namespace sluice::grpc_api {
namespace {

namespace pb = google::protobuf;

Schema AllTypes() {
  return Schema{{{"id", FieldType::kInt, false},
                 {"u", FieldType::kUInt, true},
                 {"f", FieldType::kFloat, true},
                 {"b", FieldType::kBoolean, true},
                 {"d", FieldType::kDecimal, true},
                 {"s", FieldType::kString, true},
                 {"t", FieldType::kText, true},
                 {"bin", FieldType::kBinary, true},
                 {"day", FieldType::kDate, true},
                 {"at", FieldType::kTimestamp, true},
                 {"dur", FieldType::kDuration, true},
                 {"j", FieldType::kJson, true},
                 {"p", FieldType::kPoint, true}},
                {0}};
}

class RecordWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pb::Timestamp::descriptor();
    auto proto =
        BuildEndpointsProto("t", {RestEndpoint{"things", "/things", "things", AllTypes(), 0}});
    file_ = pool_.BuildFile(proto.file);
    ASSERT_NE(file_, nullptr);
    record_ = factory_.GetPrototype(pool_.FindMessageTypeByName("sluice.endpoints.ThingsRecord"));
  }
  std::unique_ptr<pb::Message> Encode(const Record& record) {
    std::string row, wire;
    EncodeRow(AllTypes(), record, &row);
    EXPECT_TRUE(AppendRecordWire(AllTypes(), row, &wire).ok());
    std::unique_ptr<pb::Message> m(record_->New());
    EXPECT_TRUE(m->ParseFromString(wire));
    return m;
  }
  pb::DescriptorPool pool_{pb::DescriptorPool::generated_pool()};
  pb::DynamicMessageFactory factory_;
  const pb::FileDescriptor* file_ = nullptr;
  const pb::Message* record_ = nullptr;
};

TEST_F(RecordWireTest, EveryTypeReadsBackThroughTheDescriptor) {
  auto d = Decimal::Parse("-19.90");
  ASSERT_TRUE(d.ok());
  Record record = {Value(int64_t(-5)),
                   Value(uint64_t(18446744073709551615ull)),
                   Value(0.5),
                   Value(false),
                   Value(*d),
                   Value("héllo"),
                   Value("text"),
                   Value(std::string("\0\xff", 2)),
                   Value(int64_t(20415)),          // 2025-11-23
                   Value(int64_t(-1'500'000)),     // 1969-12-31T23:59:58.5Z
                   Value(int64_t(5'400'000'000)),  // 1h30m
                   Value("{\"a\": [1]}"),
                   Value(Point{1.5, -2})};
  auto m = Encode(record);
  const pb::Reflection* r = m->GetReflection();
  const pb::Descriptor* desc = m->GetDescriptor();
  auto f = [&](const char* name) { return desc->FindFieldByName(name); };
  EXPECT_EQ(r->GetInt64(*m, f("id")), -5);
  EXPECT_EQ(r->GetUInt64(*m, f("u")), 18446744073709551615ull);
  EXPECT_EQ(r->GetDouble(*m, f("f")), 0.5);
  EXPECT_TRUE(r->HasField(*m, f("b")));  // false, but present
  EXPECT_FALSE(r->GetBool(*m, f("b")));
  EXPECT_EQ(r->GetString(*m, f("d")), "-19.90");
  EXPECT_EQ(r->GetString(*m, f("s")), "héllo");
  EXPECT_EQ(r->GetString(*m, f("bin")), std::string("\0\xff", 2));
  EXPECT_EQ(r->GetString(*m, f("day")), "2025-11-23");
  const pb::Message& at = r->GetMessage(*m, f("at"));
  EXPECT_EQ(at.GetReflection()->GetInt64(at, at.GetDescriptor()->FindFieldByName("seconds")), -2);
  EXPECT_EQ(at.GetReflection()->GetInt32(at, at.GetDescriptor()->FindFieldByName("nanos")),
            500'000'000);
  EXPECT_EQ(r->GetInt64(*m, f("dur")), 5'400'000'000);
  EXPECT_EQ(r->GetString(*m, f("j")), "{\"a\": [1]}");
  const pb::Message& p = r->GetMessage(*m, f("p"));
  EXPECT_EQ(p.GetReflection()->GetDouble(p, p.GetDescriptor()->FindFieldByName("y")), -2);

  // And back: each field as the Value it came from.
  const Schema schema = AllTypes();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    auto v = ValueFromMessageField(*m, desc->field(int(i)), schema.fields[i].type);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, record[i]) << schema.fields[i].name;
  }
}

TEST_F(RecordWireTest, NullsAreAbsentFields) {
  Record record(AllTypes().fields.size());
  record[0] = Value(int64_t(0));
  auto m = Encode(record);
  std::vector<const pb::FieldDescriptor*> set;
  m->GetReflection()->ListFields(*m, &set);
  ASSERT_EQ(set.size(), 0u);  // id 0 is the default of a non-optional field
  for (int i = 1; i < m->GetDescriptor()->field_count(); ++i) {
    auto v = ValueFromMessageField(*m, m->GetDescriptor()->field(i), AllTypes().fields[i].type);
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->is_null()) << i;
  }
}

TEST_F(RecordWireTest, HiddenColumnsAreLeftOut) {
  const Schema schema = AllTypes();
  Record record(schema.fields.size());
  record[0] = Value(int64_t(7));
  record[1] = Value(uint64_t(3));
  record[5] = Value("shown");
  record[6] = Value("hidden");
  record[12] = Value(Point{1, 2});
  std::vector<bool> shown(schema.fields.size(), false);
  shown[1] = shown[5] = true;  // not the key, not t, not p
  std::string row, wire;
  EncodeRow(schema, record, &row);
  ASSERT_TRUE(AppendRecordWire(schema, row, &wire, &shown).ok());
  std::unique_ptr<pb::Message> m(record_->New());
  ASSERT_TRUE(m->ParseFromString(wire));
  std::vector<const pb::FieldDescriptor*> set;
  m->GetReflection()->ListFields(*m, &set);
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set[0]->name(), "u");
  EXPECT_EQ(set[1]->name(), "s");
  EXPECT_EQ(m->GetReflection()->GetInt64(*m, m->GetDescriptor()->FindFieldByName("id")), 0);
}

TEST_F(RecordWireTest, BadRequestValuesNameTheField) {
  std::unique_ptr<pb::Message> m(record_->New());
  const pb::FieldDescriptor* day = m->GetDescriptor()->FindFieldByName("day");
  m->GetReflection()->SetString(m.get(), day, "23.11.2026");
  auto v = ValueFromMessageField(*m, day, FieldType::kDate);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status().message().rfind("day: ", 0), 0u) << v.status().message();
}

}  // namespace
}  // namespace sluice::grpc_api
