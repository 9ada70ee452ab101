#include "server/grpc/api_context.h"

#include "server/grpc/call_auth.h"

namespace sluice::grpc_api {

Status ApiContext::UnknownEndpoint(std::string_view name, const Caller* caller) const {
  std::string known;
  for (const auto& e : endpoints) {
    if (caller && !caller->policy.For(e.endpoint.name)) continue;  // not even its name
    known += (known.empty() ? "" : ", ") + e.endpoint.name;
  }
  return NotFound("unknown endpoint '" + std::string(name) + "' (endpoints: " + known + ")");
}

Result<AuthorizedEndpoint> ApiContext::Authorize(std::string_view name,
                                                 const Caller* caller) const {
  const ServedEndpoint* e = Find(name);
  if (!e) return UnknownEndpoint(name, caller);
  return Authorize(*e, caller);
}

Result<AuthorizedEndpoint> ApiContext::Authorize(const ServedEndpoint& e,
                                                 const Caller* caller) const {
  AuthorizedEndpoint out;
  out.served = &e;
  ASSIGN_OR_RETURN(out.access, AccessTo(caller, e.endpoint));
  return out;
}

}  // namespace sluice::grpc_api
