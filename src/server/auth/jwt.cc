#include "server/auth/jwt.h"

#include <jwt.h>
#include <openssl/err.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <vector>

#include "server/auth/jwk_keys.h"
#include "types/base64url.h"

namespace sluice {
namespace {

// The public reasons of jwt.h; nothing else ever reaches a caller.
constexpr char kMissingToken[] = "missing token";
constexpr char kMalformedToken[] = "malformed token";
constexpr char kUnsupportedAlgorithm[] = "unsupported algorithm";
constexpr char kUnknownKey[] = "unknown key";
constexpr char kInvalidSignature[] = "invalid signature";
constexpr char kTokenExpired[] = "token expired";
constexpr char kTokenNotYetValid[] = "token not yet valid";
constexpr char kInvalidClaims[] = "invalid claims";

// Bigger tokens are refused before any decoding.
constexpr size_t kMaxTokenBytes = 64 * 1024;
constexpr size_t kHs256SignatureBytes = 32;
constexpr int64_t kMaxLeewaySeconds = 24 * 3600;

Status Refuse(const char* reason) { return Unauthenticated(reason); }

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtHandle = std::unique_ptr<jwt_t, JwtFree>;

// The header fields that decide how a token is checked.
struct Header {
  jwt_alg_t alg = JWT_ALG_NONE;
  std::optional<std::string> kid;
};

// HS256 through libjwt, after our own checks chose HS256 and the secret: libjwt verifies with
// the alg *it* reads, so the alg it saw is compared too (duplicate names are refused earlier,
// this keeps the two readings from ever disagreeing silently).
bool VerifyHs256(std::string_view token, std::string_view secret, size_t signature_size) {
  if (signature_size != kHs256SignatureBytes) return false;
  const std::string text(token);  // libjwt wants a C string
  jwt_t* raw = nullptr;
  const int rc =
      jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size()));
  JwtHandle decoded(raw);
  if (rc != 0 || !decoded || jwt_get_alg(decoded.get()) != JWT_ALG_HS256) {
    ERR_clear_error();  // libjwt leaves OpenSSL's per-thread error queue filled
    return false;
  }
  return true;
}

// The claims, read before the signature is checked but judged only after it passed (so a
// forged token learns nothing about them).
struct Claims {
  bool well_formed = true;  // registered claims have their types; aud/iss as configured
  std::optional<int64_t> exp, nbf, iat;
  std::string subject;
  enum class Access { kMissing, kAll, kObject } access = Access::kMissing;
};

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Each thread parses with its own parser (simdjson parsers are not thread-safe).
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Duplicate member names are refused everywhere: libjwt (jansson) keeps the last of them,
// simdjson finds the first, and `{"alg":"RS256","alg":"HS256"}` must not mean two things.
bool HasDuplicateNames(simdjson::dom::element e) {
  simdjson::dom::array array;
  if (e.get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : array) {
      if (HasDuplicateNames(item)) return true;
    }
    return false;
  }
  simdjson::dom::object object;
  if (e.get(object) != simdjson::SUCCESS) return false;
  std::vector<std::string_view> names;
  for (simdjson::dom::key_value_pair member : object) {
    if (HasDuplicateNames(member.value)) return true;
    names.push_back(member.key);
  }
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
}

// One decoded segment with the padding simdjson reads past its end.
std::optional<std::string> DecodeJsonSegment(std::string_view segment) {
  return DecodeBase64Url(segment, simdjson::SIMDJSON_PADDING);
}

Result<simdjson::dom::object> ParseObject(const std::string& json) {
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (json.capacity() - json.size() < simdjson::SIMDJSON_PADDING ||
      ThreadParser().parse(json.data(), json.size(), false).get(doc) != simdjson::SUCCESS ||
      doc.get(object) != simdjson::SUCCESS || HasDuplicateNames(doc)) {
    return Refuse(kMalformedToken);
  }
  return object;
}

Result<Header> ParseHeader(const std::string& json) {
  ASSIGN_OR_RETURN(simdjson::dom::object header, ParseObject(json));
  // Extensions marked critical must be understood; Sluice understands none.
  if (header["crit"].error() != simdjson::NO_SUCH_FIELD) return Refuse(kMalformedToken);
  std::string_view text;
  if (header["typ"].error() != simdjson::NO_SUCH_FIELD) {
    // libjwt 1.10 refuses any other typ; saying so here keeps its reason honest.
    if (header["typ"].get(text) != simdjson::SUCCESS || !EqualsIgnoringAsciiCase(text, "JWT")) {
      return Refuse(kMalformedToken);
    }
  }
  Header out;
  if (header["kid"].error() != simdjson::NO_SUCH_FIELD) {
    if (header["kid"].get(text) != simdjson::SUCCESS) return Refuse(kMalformedToken);
    out.kid = std::string(text);
  }
  // Exact spellings only (libjwt itself compares case-insensitively): anything else, `none`
  // and a missing alg included, is refused here, before any key is looked at.
  std::string_view alg;
  if (header["alg"].get(alg) != simdjson::SUCCESS) return Refuse(kUnsupportedAlgorithm);
  if (alg == "HS256") {
    out.alg = JWT_ALG_HS256;
  } else if (alg == "RS256") {
    out.alg = JWT_ALG_RS256;
  } else if (alg == "ES256") {
    out.alg = JWT_ALG_ES256;
  } else {
    return Refuse(kUnsupportedAlgorithm);
  }
  return out;
}

// A NumericDate (RFC 7519 §2): any JSON number, whole seconds (fractions dropped), clamped to
// the int64 range.
std::optional<int64_t> NumericDate(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return e.get_int64().value_unsafe();
    case simdjson::dom::element_type::UINT64:
      return std::numeric_limits<int64_t>::max();  // beyond int64: far future
    case simdjson::dom::element_type::DOUBLE: {
      double d = std::floor(e.get_double().value_unsafe());
      if (!std::isfinite(d)) return std::nullopt;
      if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
      if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
      return static_cast<int64_t>(d);
    }
    default:
      return std::nullopt;
  }
}

Claims ReadClaims(simdjson::dom::object payload, const JwtOptions& options) {
  Claims claims;
  auto date = [&](const char* name, std::optional<int64_t>& out) {
    simdjson::dom::element value;
    if (payload[name].get(value) != simdjson::SUCCESS) return;
    out = NumericDate(value);
    if (!out) claims.well_formed = false;
  };
  date("exp", claims.exp);
  date("nbf", claims.nbf);
  date("iat", claims.iat);
  if (!claims.exp) claims.well_formed = false;

  std::string_view text;
  if (payload["sub"].error() != simdjson::NO_SUCH_FIELD) {
    if (payload["sub"].get(text) == simdjson::SUCCESS) {
      claims.subject = std::string(text);
    } else {
      claims.well_formed = false;
    }
  }
  if (!options.audience.empty()) {
    bool found = false;
    std::string_view one;
    simdjson::dom::array several;
    if (payload["aud"].get(one) == simdjson::SUCCESS) {
      found = one == options.audience;
    } else if (payload["aud"].get(several) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : several) {
        found = found || (item.get(one) == simdjson::SUCCESS && one == options.audience);
      }
    }
    if (!found) claims.well_formed = false;
  }
  if (!options.issuer.empty()) {
    if (payload["iss"].get(text) != simdjson::SUCCESS || text != options.issuer) {
      claims.well_formed = false;
    }
  }
  simdjson::dom::object access;
  if (payload["access"].get(access) == simdjson::SUCCESS) {
    claims.access = Claims::Access::kObject;
  } else if (payload["access"].get(text) == simdjson::SUCCESS && text == "all") {
    claims.access = Claims::Access::kAll;
  }
  if (claims.access == Claims::Access::kMissing) claims.well_formed = false;
  return claims;
}

// The `access` object exactly as the token spells it (the payload was validated already).
Result<std::string> RawAccessObject(const std::string& payload_json) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string_view padded(payload_json.data(), payload_json.size(),
                                      payload_json.capacity());
  simdjson::ondemand::document doc;
  simdjson::ondemand::object access;
  std::string_view raw;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc["access"].get_object().get(access) != simdjson::SUCCESS ||
      access.raw_json().get(raw) != simdjson::SUCCESS) {
    return Refuse(kInvalidClaims);
  }
  // raw_json() runs up to the next token; drop the whitespace before it.
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r')) {
    raw.remove_suffix(1);
  }
  return std::string(raw);
}

}  // namespace

struct JwtVerifier::Impl {
  JwtOptions options;
  std::optional<PublicKey> pem_key;  // jwt_public_key: used whatever the token's kid
  std::vector<PublicKey> jwks_keys;  // chosen by kid

  // The public key a token with `header` must be signed with; nullptr for HS256, which is
  // only ever checked against the configured secret, never against public key text (the
  // algorithm confusion attack).
  Result<const PublicKey*> KeyFor(const Header& header) const {
    if (header.alg == JWT_ALG_HS256) {
      if (options.secret.empty()) return Refuse(kUnsupportedAlgorithm);
      return nullptr;
    }
    const PublicKeyKind kind =
        header.alg == JWT_ALG_RS256 ? PublicKeyKind::kRsa : PublicKeyKind::kEcP256;
    auto of_kind = [&](const PublicKey& k) { return k.kind() == kind; };
    size_t candidates = std::count_if(jwks_keys.begin(), jwks_keys.end(), of_kind) +
                        (pem_key && of_kind(*pem_key) ? 1 : 0);
    if (candidates == 0) return Refuse(kUnsupportedAlgorithm);

    const PublicKey* chosen = nullptr;
    if (header.kid) {
      auto it = std::find_if(jwks_keys.begin(), jwks_keys.end(),
                             [&](const PublicKey& k) { return k.kid() == *header.kid; });
      if (it != jwks_keys.end()) {
        chosen = of_kind(*it) ? &*it : nullptr;
      } else if (jwks_keys.empty() && pem_key && of_kind(*pem_key)) {
        chosen = &*pem_key;  // a single configured PEM key does not know kids
      }
    } else if (candidates == 1) {
      // No kid: acceptable only when one key of the right kind could have signed it.
      chosen = pem_key && of_kind(*pem_key)
                   ? &*pem_key
                   : &*std::find_if(jwks_keys.begin(), jwks_keys.end(), of_kind);
    }
    if (chosen == nullptr) return Refuse(kUnknownKey);
    return chosen;
  }
};

JwtVerifier::JwtVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtVerifier::~JwtVerifier() = default;

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtOptions& options) {
  if (options.secret.empty() && options.public_key_pem.empty() && options.jwks_json.empty()) {
    return InvalidArgument("JWT auth needs a key: jwt_secret, jwt_public_key or jwks_file");
  }
  if (options.leeway_seconds < 0 || options.leeway_seconds > kMaxLeewaySeconds) {
    return InvalidArgument("JWT leeway must be between 0 and " + std::to_string(kMaxLeewaySeconds) +
                           " seconds");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (!options.public_key_pem.empty()) {
    ASSIGN_OR_RETURN(impl->pem_key, PublicKeyFromPem(options.public_key_pem));
  }
  if (!options.jwks_json.empty()) {
    ASSIGN_OR_RETURN(impl->jwks_keys, PublicKeysFromJwks(options.jwks_json));
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(std::move(impl)));
}

Result<VerifiedToken> JwtVerifier::Verify(std::string_view token, int64_t now_seconds) const {
  if (token.empty()) return Refuse(kMissingToken);
  if (token.size() > kMaxTokenBytes) return Refuse(kMalformedToken);

  // header.payload.signature, each canonical base64url (which also keeps out NULs, spaces and
  // any further dots).
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return Refuse(kMalformedToken);
  std::optional<std::string> header_json = DecodeJsonSegment(token.substr(0, dot1));
  std::optional<std::string> signature = DecodeBase64Url(token.substr(dot2 + 1));
  if (!header_json || !signature) return Refuse(kMalformedToken);

  // Alg and key come from our own reading of the header, never from libjwt's.
  ASSIGN_OR_RETURN(const Header header, ParseHeader(*header_json));
  ASSIGN_OR_RETURN(const PublicKey* const public_key, impl_->KeyFor(header));

  std::optional<std::string> payload_json =
      DecodeJsonSegment(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_json) return Refuse(kMalformedToken);
  ASSIGN_OR_RETURN(simdjson::dom::object payload, ParseObject(*payload_json));
  const Claims claims = ReadClaims(payload, impl_->options);

  const bool signed_by_key = public_key
                                 ? public_key->VerifySha256(token.substr(0, dot2), *signature)
                                 : VerifyHs256(token, impl_->options.secret, signature->size());
  if (!signed_by_key) return Refuse(kInvalidSignature);

  if (!claims.well_formed) return Refuse(kInvalidClaims);
  const int64_t leeway = impl_->options.leeway_seconds;
  if (*claims.exp <= now_seconds - leeway) return Refuse(kTokenExpired);
  if (claims.nbf && *claims.nbf > now_seconds + leeway) return Refuse(kTokenNotYetValid);
  if (claims.iat && *claims.iat > now_seconds + leeway) return Refuse(kInvalidClaims);

  VerifiedToken verified;
  verified.subject = claims.subject;
  verified.expires_at = *claims.exp;
  if (claims.access == Claims::Access::kAll) {
    verified.access_json = "\"all\"";
  } else {
    ASSIGN_OR_RETURN(verified.access_json, RawAccessObject(*payload_json));
  }
  return verified;
}

Result<std::string> IssueToken(std::string_view secret, std::string_view access_json,
                               int64_t ttl_seconds, int64_t now_seconds, std::string_view subject,
                               std::string_view audience, std::string_view issuer) {
  if (secret.empty()) return InvalidArgument("cannot issue tokens: no jwt_secret is configured");
  if (ttl_seconds <= 0 || ttl_seconds > std::numeric_limits<int64_t>::max() - now_seconds) {
    return InvalidArgument("token ttl must be positive and end in a representable time");
  }
  {
    simdjson::padded_string padded(access_json);
    simdjson::dom::element access;
    std::string_view all;
    if (ThreadParser().parse(padded).get(access) != simdjson::SUCCESS ||
        !(access.is_object() || (access.get(all) == simdjson::SUCCESS && all == "all"))) {
      return InvalidArgument("access must be \"all\" or a JSON object");
    }
  }

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Internal("jwt_new failed");
  JwtHandle jwt(raw);
  const std::string grants = "{\"access\":" + std::string(access_json) + "}";
  auto add = [&](const char* name, std::string_view value) {
    return value.empty() ? 0 : jwt_add_grant(jwt.get(), name, std::string(value).c_str());
  };
  if (jwt_add_grant_int(jwt.get(), "iat", now_seconds) != 0 ||
      jwt_add_grant_int(jwt.get(), "exp", now_seconds + ttl_seconds) != 0 ||
      add("sub", subject) != 0 || add("aud", audience) != 0 || add("iss", issuer) != 0 ||
      jwt_add_grants_json(jwt.get(), grants.c_str()) != 0) {
    return InvalidArgument("cannot build the token's claims");
  }
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    return Internal("jwt_set_alg failed");
  }
  std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(jwt.get()), &std::free);
  if (!encoded) return Internal("jwt_encode_str failed");
  return std::string(encoded.get());
}

}  // namespace sluice
