#include "server/grpc/call_auth.h"

#include <grpcpp/server_context.h>

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
  return authenticator->Authenticate(header);
}

}  // namespace sluice::grpc_api
