#include "control/auth_setup.h"

#include "common/clock.h"
#include "common/file_util.h"
#include "control/pipeline.h"
#include "server/auth/jwt.h"
#include "types/time_util.h"

namespace sluice {
Result<std::unique_ptr<Authenticator>> MakeAuthenticator(
    const Config& config, const std::vector<RestEndpoint>& endpoints) {
  if (!config.api.auth) return std::unique_ptr<Authenticator>();
  const AuthConfig& auth = *config.api.auth;
  JwtOptions options;
  options.secret = auth.jwt_secret;
  options.audience = auth.audience;
  options.issuer = auth.issuer;
  if (!auth.jwt_public_key.empty()) {
    auto pem = ReadFile(auth.jwt_public_key);
    if (!pem.ok()) return auth.location.Error("jwt_public_key: " + pem.status().message());
    options.public_key_pem = std::move(*pem);
  }
  if (!auth.jwks_file.empty()) {
    auto jwks = ReadFile(auth.jwks_file);
    if (!jwks.ok()) return auth.location.Error("jwks_file: " + jwks.status().message());
    options.jwks_json = std::move(*jwks);
  }
  auto verifier = JwtVerifier::Create(options);
  if (!verifier.ok()) return auth.location.Error(verifier.status().message());
  return std::make_unique<Authenticator>(std::move(*verifier), endpoints);
}

Result<std::string> MakeToken(const Config& config, const std::string& access,
                              const std::string& ttl, const std::string& subject) {
  if (!config.api.auth || config.api.auth->jwt_secret.empty()) {
    return InvalidArgument(config.file +
                           ": sluice token signs with api.auth.jwt_secret, which is not set "
                           "(tokens for public-key setups come from your identity provider)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> pipeline, Pipeline::Build(config));
  const std::string access_json = access == "all" ? "\"all\"" : access;
  auto policy = AccessPolicy::Parse(access_json, pipeline->RestEndpoints());
  if (!policy.ok()) return InvalidArgument("--access: " + policy.status().message());
  auto micros = ParseDuration(ttl);
  if (!micros.ok()) return InvalidArgument("--ttl: " + micros.status().message());
  const int64_t seconds = *micros / kMicrosPerSecond;
  if (seconds <= 0) return InvalidArgument("--ttl: must be at least one second");
  const AuthConfig& auth = *config.api.auth;
  return IssueToken(auth.jwt_secret, access_json, seconds, UnixSeconds(), subject, auth.audience,
                    auth.issuer);
}

}  // namespace sluice
