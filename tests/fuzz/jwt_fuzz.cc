// JWT text as clients send it (src/server/auth/jwt.h): Bearer headers, tokens checked against
// an HS256 secret and RS256/ES256 keys (a JWKS and a PEM key), JWKS and PEM documents, and
// the tokens POST /auth/token and `sluice token` issue.
//
// Input: a mode byte, then
//   'r' a token as sent (checked by two verifiers: secret + JWKS; PEM key + audience + issuer)
//   's' "HEADER_JSON\nPAYLOAD_JSON": the harness signs it with HS256 and kJwtSecret, so the
//       claim checks run on arbitrary claims (a fuzzer cannot forge a signature)
//   'k' a JWKS document (then the same text as a PEM key)
//   'i' an access claim (JSON) for IssueToken
//   'b' an Authorization header
// Contracts: Verify fails only with Unauthenticated and one of the eight public reasons; a
// verified token has an `exp` after now - leeway and an `access` of "all" or a JSON object,
// which AccessPolicy::Parse takes or refuses with InvalidArgument; the Authenticator (which
// caches verified tokens) agrees with the verifier, twice; a key document is refused with
// InvalidArgument; a token IssueToken makes verifies, with the same access.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

#include "fuzz_keys.h"
#include "fuzz_shop.h"
#include "fuzz_support.h"
#include "server/auth/access_policy.h"
#include "server/auth/authenticator.h"
#include "server/auth/jwk_keys.h"
#include "server/auth/jwt.h"
#include "types/base64url.h"

namespace sluice::fuzz::jwt {
namespace {

constexpr int64_t kNow = 1'750'000'000;

struct Verifiers {
  std::unique_ptr<JwtVerifier> secret_and_jwks;
  std::unique_ptr<JwtVerifier> pem_with_claims;
  std::vector<RestEndpoint> endpoints;
};

const Verifiers& GetVerifiers() {
  static const Verifiers* v = [] {
    auto* out = new Verifiers;
    JwtOptions a;
    a.secret = kJwtSecret;
    a.jwks_json = kFuzzJwks;
    JwtOptions b;
    b.public_key_pem = kFuzzEcPublicPem;
    b.audience = "fuzz-aud";
    b.issuer = "fuzz-iss";
    auto va = JwtVerifier::Create(a), vb = JwtVerifier::Create(b);
    if (!va.ok() || !vb.ok()) Fail(__FILE__, __LINE__, "fuzz verifier setup failed");
    out->secret_and_jwks = std::move(*va);
    out->pem_with_claims = std::move(*vb);
    Schema schema = ShopProductSchema();
    Schema log = schema;
    log.primary_key.clear();
    out->endpoints = {{"products", "/products", "products", schema, 0},
                      {"log", "/ops/log", "log", log, 1}};
    return out;
  }();
  return *v;
}

void CheckVerified(const Result<VerifiedToken>& result, const std::string& ctx) {
  if (!result.ok()) {
    static const std::array<std::string_view, 8> kReasons = {
        "missing token",     "malformed token", "unsupported algorithm", "unknown key",
        "invalid signature", "token expired",   "token not yet valid",   "invalid claims"};
    FUZZ_CHECK(result.status().code() == StatusCode::kUnauthenticated,
               Describe(result.status()) + " for " + ctx);
    FUZZ_CHECK(
        std::find(kReasons.begin(), kReasons.end(), result.status().message()) != kReasons.end(),
        "not a public reason: " + Describe(result.status()) + " for " + ctx);
    return;
  }
  FUZZ_CHECK(result->expires_at > kNow - 30, "expired token accepted: " + ctx);
  const std::string& access = result->access_json;
  FUZZ_CHECK(access == "\"all\"" || (access.starts_with("{") && IsValidJson(access)),
             "access " + Printable(access) + ": " + ctx);
  auto policy = AccessPolicy::Parse(access, GetVerifiers().endpoints);
  if (!policy.ok()) {
    FUZZ_CHECK(policy.status().code() == StatusCode::kInvalidArgument,
               Describe(policy.status()) + " for " + ctx);
  }
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

void VerifyBoth(const std::string& token, const std::string& ctx) {
  const Verifiers& v = GetVerifiers();
  auto a = v.secret_and_jwks->Verify(token, kNow);
  CheckVerified(a, ctx);
  CheckVerified(v.pem_with_claims->Verify(token, kNow), ctx);
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const char mode = in.empty() ? 'r' : in[0];
  if (!in.empty()) in.remove_prefix(1);
  const std::string ctx = std::string(1, mode) + " " + Printable(in);
  switch (mode) {
    case 's': {
      std::string_view payload = in;
      std::string_view header = TakeLine(&payload);
      const std::string signing_input = EncodeBase64Url(header) + "." + EncodeBase64Url(payload);
      const std::string token =
          signing_input + "." + EncodeBase64Url(HmacSha256(kJwtSecret, signing_input));
      VerifyBoth(token, ctx);
      // The Authenticator caches by token text: the second answer must equal the first.
      static Shop* shop = MakeShop("jwt").release();
      for (int round = 0; round < 2; ++round) {
        auto caller = shop->authenticator->Authenticate("Bearer " + token, kNow);
        auto direct = GetVerifiers().secret_and_jwks->Verify(token, kNow);
        if (!direct.ok()) {
          FUZZ_CHECK(!caller.ok(), "authenticator accepted what the verifier refused: " + ctx);
        } else if (caller.ok()) {
          FUZZ_CHECK(
              (*caller)->expires_at == direct->expires_at && (*caller)->subject == direct->subject,
              "authenticator and verifier disagree: " + ctx);
        }
      }
      return 0;
    }
    case 'k': {
      auto keys = PublicKeysFromJwks(in);
      if (keys.ok()) {
        FUZZ_CHECK(!keys->empty(), "a JWKS with no usable key accepted: " + ctx);
      } else {
        FUZZ_CHECK(keys.status().code() == StatusCode::kInvalidArgument, Describe(keys.status()));
      }
      auto pem = PublicKeyFromPem(in);
      if (!pem.ok()) {
        FUZZ_CHECK(pem.status().code() == StatusCode::kInvalidArgument, Describe(pem.status()));
      }
      JwtOptions options;
      options.jwks_json = std::string(in);
      auto verifier = JwtVerifier::Create(options);
      FUZZ_CHECK(verifier.ok() == keys.ok(), "Create and PublicKeysFromJwks disagree: " + ctx);
      if (verifier.ok()) CheckVerified((*verifier)->Verify("e30.e30.c2ln", kNow), ctx);
      return 0;
    }
    case 'i': {
      auto token = IssueToken(kJwtSecret, in, 3600, kNow, "fuzz");
      if (!token.ok()) {
        FUZZ_CHECK(token.status().code() == StatusCode::kInvalidArgument,
                   Describe(token.status()) + " for " + ctx);
        return 0;
      }
      auto verified = GetVerifiers().secret_and_jwks->Verify(*token, kNow);
      FUZZ_CHECK(verified.ok(), "an issued token is refused: " + Describe(verified.status()) +
                                    " for " + ctx + " token " + *token);
      CheckVerified(verified, ctx);
      FUZZ_CHECK(verified->subject == "fuzz" && verified->expires_at == kNow + 3600, ctx);
      // The token means what the claim meant (it is re-encoded on the way in).
      const auto& endpoints = GetVerifiers().endpoints;
      auto before = AccessPolicy::Parse(in, endpoints);
      auto after = AccessPolicy::Parse(verified->access_json, endpoints);
      if (!before.ok()) return 0;
      FUZZ_CHECK(after.ok(), "issued access " + Printable(verified->access_json) + " for " + ctx);
      for (const RestEndpoint& e : endpoints) {
        const EndpointAccess* a = before->For(e.name);
        const EndpointAccess* b = after->For(e.name);
        const std::string what =
            "endpoint " + e.name + ": claim " + ctx + " became " + Printable(verified->access_json);
        FUZZ_CHECK((a == nullptr) == (b == nullptr), what);
        if (!a) continue;
        FUZZ_CHECK(a->fields == b->fields, "fields differ: " + what);
        FUZZ_CHECK(SameFilter(a->filter, b->filter), "row filter differs: " + what);
      }
      return 0;
    }
    case 'b': {
      std::string_view token = BearerToken(in);
      FUZZ_CHECK(token.empty() || in.find(token) != std::string_view::npos, ctx);
      if (!token.empty()) VerifyBoth(std::string(token), ctx);
      return 0;
    }
    default:
      VerifyBoth(std::string(in), ctx);
      return 0;
  }
}

}  // namespace sluice::fuzz::jwt
