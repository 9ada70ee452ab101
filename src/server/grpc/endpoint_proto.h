// The typed gRPC contract of an app, derived from its endpoints' schemas at start-up: one
// service per endpoint in package sluice.endpoints (docs/grpc.md has the type mapping). Built
// directly as a FileDescriptorProto (no .proto parsing at run time) and printed as .proto
// text for clients to generate code from. Pure functions: the same endpoints always give the
// same file, so a client's generated code stays valid across restarts.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <string>
#include <string_view>
#include <vector>

#include "server/endpoint.h"

namespace sluice::grpc_api {

inline constexpr std::string_view kEndpointsPackage = "sluice.endpoints";

// One endpoint's service and messages (simple names inside kEndpointsPackage).
struct EndpointProtoNames {
  std::string service;              // "OrdersService"
  std::string record;               // "OrdersRecord"
  std::string query_response;       // "OrdersQueryResponse"
  std::string event;                // "OrdersEvent"
  std::string get_request;          // "OrdersGetRequest"; empty unless the key is one column
  std::vector<std::string> fields;  // per schema field: its name in the record message

  std::string FullService() const { return std::string(kEndpointsPackage) + "." + service; }
  std::string FullRecord() const { return std::string(kEndpointsPackage) + "." + record; }
};

struct EndpointsProto {
  google::protobuf::FileDescriptorProto file;  // named EndpointsProtoFileName(app)
  std::vector<EndpointProtoNames> endpoints;   // in the order of the endpoints given
};

EndpointsProto BuildEndpointsProto(std::string_view app_name,
                                   const std::vector<RestEndpoint>& endpoints);

// "<app_name>.proto", with characters other than letters, digits, '_', '-' and '.' as '_'.
std::string EndpointsProtoFileName(std::string_view app_name);

// The .proto text of a built file, comments included.
std::string PrintProtoFile(const google::protobuf::FileDescriptor& file);

}  // namespace sluice::grpc_api
