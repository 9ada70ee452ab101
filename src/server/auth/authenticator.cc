#include "server/auth/authenticator.h"

#include <mutex>

#include "common/clock.h"

namespace sluice {
namespace {

constexpr size_t kMaxCachedTokens = 10000;

}  // namespace

std::string_view BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

Result<const EndpointAccess*> AccessTo(const Caller* caller, const RestEndpoint& endpoint) {
  static const EndpointAccess kEverything;
  if (!caller) return &kEverything;
  if (const EndpointAccess* access = caller->policy.For(endpoint.name)) return access;
  const std::string problem = caller->policy.Problem(endpoint.name);
  return PermissionDenied("this token does not allow endpoint " + endpoint.name +
                          (problem.empty() ? "" : " (" + problem + ")"));
}

Result<std::shared_ptr<const Caller>> Authenticator::Authenticate(std::string_view header) const {
  return Authenticate(header, UnixSeconds());
}

Authenticator::Authenticator(std::unique_ptr<JwtVerifier> verifier,
                             std::vector<RestEndpoint> endpoints)
    : verifier_(std::move(verifier)), endpoints_(std::move(endpoints)) {}

Result<std::shared_ptr<const Caller>> Authenticator::Authenticate(std::string_view header,
                                                                  int64_t now) const {
  const std::string_view token = BearerToken(header);
  if (token.empty()) return Unauthenticated("missing token");
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(absl::string_view(token.data(), token.size()));
    if (it != cache_.end()) {
      if (now < it->second->expires_at) return it->second;
      return Unauthenticated("token expired");  // dropped when the cache is next cleared
    }
  }
  ASSIGN_OR_RETURN(VerifiedToken verified, verifier_->Verify(token, now));
  auto policy = AccessPolicy::Parse(verified.access_json, endpoints_);
  if (!policy.ok()) return Unauthenticated("invalid claims");
  auto caller = std::make_shared<Caller>();
  caller->subject = std::move(verified.subject);
  caller->expires_at = verified.expires_at;
  caller->policy = std::move(*policy);
  std::unique_lock lock(mu_);
  if (cache_.size() >= kMaxCachedTokens) cache_.clear();  // crude but bounded
  cache_.emplace(std::string(token), caller);
  return std::shared_ptr<const Caller>(std::move(caller));
}

}  // namespace sluice
