// JWT verification and issuing for every API (REST, gRPC, live; pgwire later). Independent
// of HTTP: callers hand over the bearer token text and get the verified claims, or an
// Unauthenticated status whose message is one of a few fixed, public reasons (never which
// check passed, never key material).
//
// Keys: an HS256 secret and/or an RS256/ES256 public key (PEM) or a JWKS file (keys chosen
// by `kid`). The token's `alg` must match the kind of key it is checked with — an HS256
// token is only ever checked against the secret (no algorithm confusion), `none` is refused.
// Thread-safety: Verify is const and may run on any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

struct JwtOptions {
  std::string secret;           // HS256; empty = none
  std::string public_key_pem;   // RS256 or ES256 public key (PEM text); empty = none
  std::string jwks_json;        // a JWKS document (RSA and EC P-256 keys with kid); empty = none
  std::string audience;         // when set, `aud` must contain it
  std::string issuer;           // when set, `iss` must equal it
  int64_t leeway_seconds = 30;  // clock skew allowed for exp / nbf / iat
};

struct VerifiedToken {
  std::string subject;      // `sub`, may be empty
  int64_t expires_at = 0;   // `exp` (required)
  std::string access_json;  // the `access` claim as JSON text ("\"all\"" or an object)
};

class JwtVerifier {
 public:
  // Fails (InvalidArgument naming the problem) when no key is given or a key does not parse.
  static Result<std::unique_ptr<JwtVerifier>> Create(const JwtOptions& options);
  ~JwtVerifier();

  // Unauthenticated with one of: "missing token", "malformed token", "unsupported algorithm",
  // "unknown key", "invalid signature", "token expired", "token not yet valid",
  // "invalid claims" (aud/iss/iat/missing exp or access).
  Result<VerifiedToken> Verify(std::string_view token, int64_t now_seconds) const;

 private:
  struct Impl;
  explicit JwtVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Signs an HS256 token with `secret`: sub, iat, exp = now + ttl, aud/iss when given, and the
// `access` claim (JSON text, inserted as JSON).
Result<std::string> IssueToken(std::string_view secret, std::string_view access_json,
                               int64_t ttl_seconds, int64_t now_seconds,
                               std::string_view subject = "", std::string_view audience = "",
                               std::string_view issuer = "");

}  // namespace sluice
