// From the config's `api.auth` to the servers' Authenticator, and `sluice token`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "server/auth/authenticator.h"
#include "server/endpoint.h"

namespace sluice {

// Null when the config has no `api.auth`. Errors name the key file that cannot be used.
Result<std::unique_ptr<Authenticator>> MakeAuthenticator(
    const Config& config, const std::vector<RestEndpoint>& endpoints);

// A token signed with api.auth.jwt_secret: `access` is "all" or a JSON access claim, checked
// against the config's endpoints; `ttl` a duration such as "1h".
Result<std::string> MakeToken(const Config& config, const std::string& access,
                              const std::string& ttl, const std::string& subject);

}  // namespace sluice
