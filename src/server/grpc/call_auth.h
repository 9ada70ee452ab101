// Authorization of gRPC calls (docs/auth.md), as REST does it: who a call comes from (its
// `authorization` metadata, "Bearer <token>", verified by the same Authenticator). What it may
// do with an endpoint comes from the shared AccessTo (authenticator.h) and
// AccessPolicy::Apply; refusals are Unauthenticated / PermissionDenied statuses
// (grpc_status.h turns them into gRPC codes). Without an authenticator (no api.auth) every
// caller is null and may do everything.
// Thread-safety: plain functions; the Authenticator may be shared by every thread.
#pragma once

#include <memory>

#include "cache/query_spec.h"
#include "common/status.h"
#include "server/auth/access_policy.h"
#include "server/auth/authenticator.h"
#include "server/endpoint.h"

namespace grpc {
class ServerContextBase;
}

namespace sluice::grpc_api {

// The caller of a call: null when `authenticator` is null; Unauthenticated with the
// Authenticator's fixed reason ("missing token", "token expired", ...) when refused.
Result<std::shared_ptr<const Caller>> AuthenticateCall(const Authenticator* authenticator,
                                                       const grpc::ServerContextBase& ctx);

}  // namespace sluice::grpc_api
