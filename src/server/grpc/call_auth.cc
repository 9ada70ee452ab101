#include "server/grpc/call_auth.h"

#include <grpcpp/server_context.h>

#include <chrono>
#include <string_view>

namespace sluice::grpc_api {

Result<std::shared_ptr<const Caller>> AuthenticateCall(const Authenticator* authenticator,
                                                       const grpc::ServerContextBase& ctx) {
  if (!authenticator) return std::shared_ptr<const Caller>();
  // Metadata keys arrive lower-cased (HTTP/2); a missing entry is an empty header.
  std::string_view header;
  const auto& metadata = ctx.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    header = std::string_view(it->second.data(), it->second.size());
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return authenticator->Authenticate(header, now);
}

Result<const EndpointAccess*> AccessTo(const Caller* caller, const RestEndpoint& endpoint) {
  static const EndpointAccess kEverything;
  if (!caller) return &kEverything;
  if (const EndpointAccess* access = caller->policy.For(endpoint.name)) return access;
  const std::string problem = caller->policy.Problem(endpoint.name);
  return PermissionDenied("this token does not allow endpoint " + endpoint.name +
                          (problem.empty() ? "" : " (" + problem + ")"));
}

Status RestrictQuery(const EndpointAccess& access, const RestEndpoint& endpoint, QuerySpec* spec) {
  RETURN_IF_ERROR(AccessPolicy::CheckColumns(access, endpoint, *spec));
  AccessPolicy::Restrict(access, spec);
  return Status::OK();
}

Status RestrictFilter(const EndpointAccess& access, const RestEndpoint& endpoint,
                      FilterNode* filter) {
  QuerySpec filter_only;
  filter_only.filter = std::move(*filter);
  RETURN_IF_ERROR(AccessPolicy::CheckColumns(access, endpoint, filter_only));
  AccessPolicy::Restrict(access, &filter_only.filter);
  *filter = std::move(filter_only.filter);
  return Status::OK();
}

}  // namespace sluice::grpc_api
