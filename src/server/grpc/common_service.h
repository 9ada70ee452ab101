// sluice.v1.Sluice (sluice.proto), the service every app has: endpoints and schemas, and the
// JSON query language over any endpoint with the same parser and query layer as REST, so
// both answer a query identically — within what the caller's token allows (call_auth.h),
// when the context has an authenticator. The unary methods are a compiled callback service;
// Subscribe goes through GenericCalls (the change-stream path the typed services share).
#pragma once

#include <memory>
#include <string>

namespace google::protobuf {
class FileDescriptor;
}
namespace grpc {
class Service;
}

namespace sluice::grpc_api {

struct ApiContext;
class GenericCalls;

// `api` must outlive the service. Registers Subscribe in `calls`.
std::unique_ptr<grpc::Service> MakeCommonService(const ApiContext& api, GenericCalls* calls);

// The compiled descriptor of sluice.proto ("sluice/v1/sluice.proto") and the service's name.
const google::protobuf::FileDescriptor* CommonServiceFile();
std::string CommonServiceName();

}  // namespace sluice::grpc_api
