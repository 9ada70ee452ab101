#include "server/auth/jwk_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <simdjson.h>

#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "types/base64url.h"

namespace sluice {
namespace {

// Owning handles for the OpenSSL objects used here.
struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, OpenSslFree>;

constexpr int kMinRsaBits = 2048;
constexpr size_t kP256CoordinateBytes = 32;

// An error from an OpenSSL call; the library's queue is cleared so it cannot surface later in
// an unrelated caller on this thread.
Status OpenSslError(std::string message) {
  ERR_clear_error();
  return InvalidArgument(std::move(message));
}

Result<EvpPkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder, std::string_view what) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(std::string(what) + ": not a valid " + type + " public key");
  }
  return EvpPkeyPtr(raw);
}

Result<std::string> Base64Member(simdjson::dom::object jwk, const char* name,
                                 std::string_view what) {
  std::string_view text;
  if (jwk[name].get(text) != simdjson::SUCCESS) {
    return InvalidArgument(std::string(what) + ": missing string member '" + name + "'");
  }
  std::optional<std::string> bytes = DecodeBase64Url(text);
  if (!bytes || bytes->empty()) {
    return InvalidArgument(std::string(what) + ": '" + name + "' is not unpadded base64url");
  }
  return std::move(*bytes);
}

Result<EvpPkeyPtr> RsaFromJwk(simdjson::dom::object jwk, std::string_view what) {
  ASSIGN_OR_RETURN(std::string n, Base64Member(jwk, "n", what));
  ASSIGN_OR_RETURN(std::string e, Base64Member(jwk, "e", what));
  auto bytes = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data());
  };
  Owned<BIGNUM> n_bn(BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr));
  Owned<BIGNUM> e_bn(BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr));
  Owned<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!n_bn || !e_bn || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return OpenSslError(std::string(what) + ": cannot build the RSA key");
  }
  return KeyFromParams("RSA", builder.get(), what);
}

Result<EvpPkeyPtr> EcP256FromJwk(simdjson::dom::object jwk, std::string_view what) {
  ASSIGN_OR_RETURN(std::string x, Base64Member(jwk, "x", what));
  ASSIGN_OR_RETURN(std::string y, Base64Member(jwk, "y", what));
  if (x.size() > kP256CoordinateBytes || y.size() > kP256CoordinateBytes) {
    return InvalidArgument(std::string(what) + ": P-256 'x' and 'y' must be 32 bytes each");
  }
  // RFC 7518 wants full-length coordinates, but some encoders drop leading zero bytes.
  x.insert(0, kP256CoordinateBytes - x.size(), '\0');
  y.insert(0, kP256CoordinateBytes - y.size(), '\0');
  // The uncompressed SEC1 point; OpenSSL refuses it unless it lies on the curve.
  std::string point = "\x04" + x + y;
  Owned<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      SN_X9_62_prime256v1, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError(std::string(what) + ": cannot build the EC key");
  }
  return KeyFromParams("EC", builder.get(), what);
}

std::string_view StringMember(simdjson::dom::object jwk, const char* name) {
  std::string_view value;
  return jwk[name].get(value) == simdjson::SUCCESS ? value : std::string_view();
}

}  // namespace

void EvpPkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Result<PublicKey> PublicKey::Adopt(EvpPkeyPtr pkey, std::string kid, std::string_view what) {
  PublicKey key;
  const std::string prefix(what);
  switch (EVP_PKEY_get_base_id(pkey.get())) {
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(pkey.get());
      if (bits < kMinRsaBits) {
        return InvalidArgument(prefix + ": RSA key has " + std::to_string(bits) +
                               " bits; at least " + std::to_string(kMinRsaBits) + " are required");
      }
      key.kind_ = PublicKeyKind::kRsa;
      key.signature_size_ = static_cast<size_t>(EVP_PKEY_get_size(pkey.get()));
      break;
    }
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t group_len = 0;
      if (EVP_PKEY_get_group_name(pkey.get(), group, sizeof(group), &group_len) != 1) {
        return OpenSslError(prefix + ": EC key without a named curve");
      }
      if (std::string_view(group, group_len) != SN_X9_62_prime256v1) {
        return InvalidArgument(prefix + ": EC key on curve " + std::string(group, group_len) +
                               "; only P-256 (ES256) is supported");
      }
      key.kind_ = PublicKeyKind::kEcP256;
      key.signature_size_ = 2 * kP256CoordinateBytes;
      break;
    }
    default:
      return InvalidArgument(prefix +
                             ": unsupported key type; use an RSA (RS256) or EC P-256 (ES256) key");
  }
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    return OpenSslError(prefix + ": the public key fails OpenSSL's consistency check");
  }
  key.kid_ = std::move(kid);
  key.key_ = std::move(pkey);
  return key;
}

bool PublicKey::VerifySha256(std::string_view signing_input, std::string_view signature) const {
  if (signature.size() != signature_size_) return false;
  auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  std::string der;  // OpenSSL verifies ECDSA signatures in DER, JWS carries raw R||S
  if (kind_ == PublicKeyKind::kEcP256) {
    Owned<ECDSA_SIG> ecdsa(ECDSA_SIG_new());
    Owned<BIGNUM> r(BN_bin2bn(bytes(signature), kP256CoordinateBytes, nullptr));
    Owned<BIGNUM> s(
        BN_bin2bn(bytes(signature) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr));
    if (!ecdsa || !r || !s || ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) {
      ERR_clear_error();
      return false;
    }
    r.release();  // owned by `ecdsa` now
    s.release();
    const int size = i2d_ECDSA_SIG(ecdsa.get(), nullptr);
    if (size <= 0) return false;
    der.resize(static_cast<size_t>(size));
    unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(ecdsa.get(), &out);
    signature = der;
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  const bool ok = ctx &&
                  EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                          key_.get(), nullptr) == 1 &&
                  EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(),
                                   bytes(signing_input), signing_input.size()) == 1;
  if (!ok) ERR_clear_error();  // a bad signature is an answer, not an error to keep around
  return ok;
}

Result<PublicKey> PublicKeyFromPem(std::string_view pem) {
  constexpr std::string_view what = "jwt_public_key";
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    return InvalidArgument(std::string(what) +
                           ": holds a private key; configure the public key only "
                           "(openssl pkey -in key.pem -pubout)");
  }
  Owned<BIO> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!in) return OpenSslError(std::string(what) + ": out of memory");
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
  if (!pkey) {
    // Identity providers often publish a certificate rather than a bare key.
    in.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    Owned<X509> cert(in ? PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr) : nullptr);
    if (cert) pkey.reset(X509_get_pubkey(cert.get()));
  }
  if (!pkey) {
    return OpenSslError(std::string(what) +
                        ": no PEM public key found (expected -----BEGIN PUBLIC KEY----- or "
                        "-----BEGIN CERTIFICATE-----)");
  }
  ERR_clear_error();  // the failed first attempt, if any
  return PublicKey::Adopt(std::move(pkey), "", what);
}

Result<std::vector<PublicKey>> PublicKeysFromJwks(std::string_view jwks_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array key_list;
  if (parser.parse(jwks_json.data(), jwks_json.size()).get(doc) != simdjson::SUCCESS) {
    return InvalidArgument("jwks: not valid JSON");
  }
  if (doc["keys"].get(key_list) != simdjson::SUCCESS) {
    return InvalidArgument("jwks: expected an object with a \"keys\" array");
  }

  std::vector<PublicKey> keys;
  std::set<std::string, std::less<>> kids;
  size_t index = 0;
  for (simdjson::dom::element entry : key_list) {
    simdjson::dom::object jwk;
    std::string what = "jwks: key #" + std::to_string(index++);
    if (entry.get(jwk) != simdjson::SUCCESS) return InvalidArgument(what + " is not an object");
    std::string_view kid = StringMember(jwk, "kid");
    if (!kid.empty()) what += " (kid '" + std::string(kid) + "')";
    std::string_view kty = StringMember(jwk, "kty");
    if (kty.empty()) return InvalidArgument(what + ": missing 'kty'");
    // Private members of RSA and EC keys (RFC 7518 §6.2.2, §6.3.2): a JWKS handed to a
    // verifier must not carry them; refusing says so before the file spreads further.
    for (const char* secret_member : {"d", "p", "q", "dp", "dq", "qi"}) {
      if ((kty == "RSA" || kty == "EC") && jwk[secret_member].error() == simdjson::SUCCESS) {
        return InvalidArgument(what + ": contains private key material ('" + secret_member +
                               "'); publish the public key only");
      }
    }

    std::string_view use = StringMember(jwk, "use");
    std::string_view alg = StringMember(jwk, "alg");
    if (!use.empty() && use != "sig") continue;
    const bool rsa = kty == "RSA" && (alg.empty() || alg == "RS256");
    const bool ec =
        kty == "EC" && StringMember(jwk, "crv") == "P-256" && (alg.empty() || alg == "ES256");
    if (!rsa && !ec) continue;  // a key Sluice does not verify with (see jwk_keys.h)
    ASSIGN_OR_RETURN(EvpPkeyPtr pkey, rsa ? RsaFromJwk(jwk, what) : EcP256FromJwk(jwk, what));
    if (!kid.empty() && !kids.emplace(kid).second) {
      return InvalidArgument(what + ": kid appears more than once");
    }
    ASSIGN_OR_RETURN(PublicKey key, PublicKey::Adopt(std::move(pkey), std::string(kid), what));
    keys.push_back(std::move(key));
  }
  if (keys.empty()) {
    return InvalidArgument("jwks: no RS256 (RSA) or ES256 (EC P-256) signing key");
  }
  return keys;
}

}  // namespace sluice
