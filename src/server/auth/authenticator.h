// Authenticator: from an `Authorization` header to a Caller (who, until when, allowed what),
// shared by every server. Verified tokens are cached by their text (bounded), so a client
// reusing its token pays for signature checks and claim parsing once; expiry is checked on
// every use.
// Thread-safety: Authenticate may run on any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/status.h"
#include "server/auth/access_policy.h"
#include "server/auth/jwt.h"
#include "server/endpoint.h"

namespace sluice {

struct Caller {
  std::string subject;
  int64_t expires_at = 0;
  AccessPolicy policy;
};

class Authenticator {
 public:
  Authenticator(std::unique_ptr<JwtVerifier> verifier, std::vector<RestEndpoint> endpoints);

  // Unauthenticated with a fixed public reason ("missing token", "invalid signature", ...).
  Result<std::shared_ptr<const Caller>> Authenticate(std::string_view authorization_header,
                                                     int64_t now_seconds) const;
  Result<std::shared_ptr<const Caller>> Authenticate(std::string_view authorization_header) const;
  const std::vector<RestEndpoint>& endpoints() const { return endpoints_; }

 private:
  std::unique_ptr<JwtVerifier> verifier_;
  std::vector<RestEndpoint> endpoints_;
  // Looked up by token text without copying it; readers share the lock.
  mutable std::shared_mutex mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const Caller>> cache_;
};

// What `caller` may do with `endpoint` (everything when null, i.e. without api.auth);
// PermissionDenied ("this token does not allow endpoint <name> (<why>)") when forbidden.
Result<const EndpointAccess*> AccessTo(const Caller* caller, const RestEndpoint& endpoint);

// The token of "Bearer <token>" (scheme case-insensitive); empty when there is none.
std::string_view BearerToken(std::string_view authorization_header);

}  // namespace sluice
