// The per-endpoint typed services of endpoint_proto.h (sluice.endpoints.<Endpoint>Service),
// served through GenericCalls: requests are parsed as DynamicMessages of the app's descriptor
// pool, records are written straight from stored rows (record_wire.h). Query and Count take
// the same JSON query language as sluice.v1.Sluice and REST and run the same query layer;
// with auth, records carry only the caller's visible fields and rows (call_auth.h).
#pragma once

#include <google/protobuf/dynamic_message.h>

#include <memory>

#include "common/status.h"

namespace sluice::grpc_api {

struct ApiContext;
class GenericCalls;

class TypedServices {
 public:
  // `file` was built from BuildEndpointsProto(api's endpoints); both must outlive this.
  TypedServices(const ApiContext& api, const google::protobuf::FileDescriptor* file)
      : api_(api), file_(file) {}

  // Adds every endpoint's methods to `calls`; an error when the file does not match `api`.
  Status Register(GenericCalls* calls);

 private:
  const google::protobuf::Message* Prototype(const std::string& simple_name);

  const ApiContext& api_;
  const google::protobuf::FileDescriptor* file_;
  google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace sluice::grpc_api
