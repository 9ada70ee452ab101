#include "server/grpc/endpoint_proto.h"

#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>

namespace sluice::grpc_api {
namespace {

namespace pb = google::protobuf;

RestEndpoint Orders() {
  Schema schema{{{"id", FieldType::kInt, false},
                 {"unit price", FieldType::kDecimal, true},
                 {"placed_at", FieldType::kTimestamp, true},
                 {"where", FieldType::kPoint, true},
                 {"flag", FieldType::kBoolean, false}},
                {0}};
  return RestEndpoint{"order-items", "/orders", "orders", schema, 0};
}

RestEndpoint Events() {
  Schema schema{{{"a_b", FieldType::kString, true}, {"aB", FieldType::kUInt, true}}, {}};
  return RestEndpoint{"events", "/events", "events", schema, 1};
}

class EndpointProtoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pb::Timestamp::descriptor();
    proto_ = BuildEndpointsProto("shop", {Orders(), Events()});
    file_ = pool_.BuildFile(proto_.file);
    ASSERT_NE(file_, nullptr);
  }
  EndpointsProto proto_;
  pb::DescriptorPool pool_{pb::DescriptorPool::generated_pool()};
  const pb::FileDescriptor* file_ = nullptr;
};

TEST_F(EndpointProtoTest, NamesServicesAndMessagesAfterTheEndpoints) {
  EXPECT_EQ(file_->name(), "shop.proto");
  EXPECT_EQ(file_->package(), "sluice.endpoints");
  ASSERT_EQ(proto_.endpoints.size(), 2u);
  EXPECT_EQ(proto_.endpoints[0].service, "OrderItemsService");
  EXPECT_EQ(proto_.endpoints[0].FullRecord(), "sluice.endpoints.OrderItemsRecord");
  EXPECT_EQ(proto_.endpoints[0].get_request, "OrderItemsGetRequest");
  EXPECT_EQ(proto_.endpoints[1].get_request, "");  // no key: no Get

  const pb::ServiceDescriptor* orders =
      pool_.FindServiceByName("sluice.endpoints.OrderItemsService");
  ASSERT_NE(orders, nullptr);
  EXPECT_NE(orders->FindMethodByName("Get"), nullptr);
  const pb::MethodDescriptor* subscribe = orders->FindMethodByName("Subscribe");
  ASSERT_NE(subscribe, nullptr);
  EXPECT_TRUE(subscribe->server_streaming());
  EXPECT_EQ(subscribe->output_type()->full_name(), "sluice.endpoints.OrderItemsEvent");
  const pb::ServiceDescriptor* events = pool_.FindServiceByName("sluice.endpoints.EventsService");
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->FindMethodByName("Get"), nullptr);
  EXPECT_EQ(events->FindMethodByName("Query")->output_type()->full_name(),
            "sluice.endpoints.EventsQueryResponse");
}

TEST_F(EndpointProtoTest, MapsFieldTypesAndNullability) {
  const pb::Descriptor* record = pool_.FindMessageTypeByName("sluice.endpoints.OrderItemsRecord");
  ASSERT_NE(record, nullptr);
  ASSERT_EQ(record->field_count(), 5);
  const pb::FieldDescriptor* id = record->field(0);
  EXPECT_EQ(id->name(), "id");
  EXPECT_EQ(id->type(), pb::FieldDescriptor::TYPE_INT64);
  EXPECT_FALSE(id->has_presence());
  const pb::FieldDescriptor* price = record->field(1);
  EXPECT_EQ(price->name(), "unit_price");
  EXPECT_EQ(price->type(), pb::FieldDescriptor::TYPE_STRING);
  EXPECT_TRUE(price->has_optional_keyword());
  const pb::FieldDescriptor* placed = record->field(2);
  EXPECT_EQ(placed->message_type()->full_name(), "google.protobuf.Timestamp");
  EXPECT_EQ(record->field(3)->message_type()->full_name(), "sluice.endpoints.Point");
  EXPECT_EQ(record->field(4)->type(), pb::FieldDescriptor::TYPE_BOOL);
  // Colliding names (protoc compares JSON names) get a suffix.
  const pb::Descriptor* events = pool_.FindMessageTypeByName("sluice.endpoints.EventsRecord");
  EXPECT_EQ(events->field(0)->name(), "a_b");
  EXPECT_EQ(events->field(1)->name(), "aB_2");
  EXPECT_EQ(proto_.endpoints[1].fields, (std::vector<std::string>{"a_b", "aB_2"}));
}

TEST_F(EndpointProtoTest, PrintsProtoTextWithComments) {
  std::string text = PrintProtoFile(*file_);
  EXPECT_NE(text.find("syntax = \"proto3\";"), std::string::npos) << text;
  EXPECT_NE(text.find("import \"google/protobuf/timestamp.proto\";"), std::string::npos);
  EXPECT_NE(text.find("optional string unit_price = 2;"), std::string::npos) << text;
  EXPECT_NE(text.find("column 'unit price': decimal"), std::string::npos) << text;
  EXPECT_NE(text.find("rpc Subscribe(.sluice.endpoints.SubscribeRequest) returns (stream "
                      ".sluice.endpoints.OrderItemsEvent);"),
            std::string::npos)
      << text;
}

TEST(EndpointProtoNames, StableAndUnique) {
  auto a = BuildEndpointsProto("shop", {Orders(), Events()});
  auto b = BuildEndpointsProto("shop", {Orders(), Events()});
  EXPECT_EQ(a.file.SerializeAsString(), b.file.SerializeAsString());
  RestEndpoint same = Events();
  same.name = "Events";
  auto c = BuildEndpointsProto("my app/1", {Events(), same});
  EXPECT_EQ(c.file.name(), "my_app_1.proto");
  EXPECT_EQ(c.endpoints[1].service, "Events2Service");
  RestEndpoint digits = Events();
  digits.name = "7days";
  EXPECT_EQ(BuildEndpointsProto("x", {digits}).endpoints[0].service, "E7daysService");
}

}  // namespace
}  // namespace sluice::grpc_api
