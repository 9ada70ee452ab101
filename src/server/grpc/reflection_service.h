// grpc.reflection.v1alpha.ServerReflection over a descriptor pool that holds the compiled
// contracts and the typed per-endpoint file built at start-up. gRPC's own reflection plugin
// only sees the compiled (generated) pool, so tools like grpcurl would not find the typed
// services; this implementation answers from the app's pool instead (which falls back to the
// generated one). Files come with their transitive dependencies in every answer. With an
// authenticator, a call needs a valid token (any access) or ends UNAUTHENTICATED.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace google::protobuf {
class DescriptorPool;
}
namespace grpc {
class Service;
}

namespace sluice {
class Authenticator;
}

namespace sluice::grpc_api {

// `pool` and `authenticator` (null: no auth) must outlive the service; `services` are the
// full names list_services answers.
std::unique_ptr<grpc::Service> MakeReflectionService(const google::protobuf::DescriptorPool* pool,
                                                     std::vector<std::string> services,
                                                     const Authenticator* authenticator);

// The full names of the contracts' own services, and a reference that keeps the health
// contract's descriptor linked into the generated pool.
std::string ReflectionServiceName();
std::string HealthServiceName();

}  // namespace sluice::grpc_api
