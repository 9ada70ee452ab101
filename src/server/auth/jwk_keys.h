// Public keys for RS256/ES256, read once when the verifier is created: a PEM public key (or
// certificate) or the keys of a JWKS document (RFC 7517; RSA `n`/`e` and EC P-256 `x`/`y`,
// converted with OpenSSL 3's OSSL_PARAM_BLD + EVP_PKEY_fromdata). Each key is kept as a parsed,
// checked OpenSSL handle, so checking a signature does no key parsing at all: libjwt 1.10 can
// only take PEM text and re-parses it on every token, which costs ~0.4 ms with OpenSSL 3.
// Thread-safety: a PublicKey is immutable once built; VerifySha256 may run on any number of
// threads at once (OpenSSL 3 allows concurrent use of an unmodified EVP_PKEY).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "common/status.h"

namespace sluice {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

enum class PublicKeyKind {
  kRsa,     // RS256; at least 2048 bits
  kEcP256,  // ES256; the P-256 curve only
};

class PublicKey {
 public:
  PublicKeyKind kind() const { return kind_; }
  const std::string& kid() const { return kid_; }  // empty: a PEM key or a JWK without kid
  size_t signature_size() const { return signature_size_; }  // RSA modulus bytes, or 64

  // True when `signature`, in JWS form (RFC 7518 §3.3 PKCS#1 v1.5 for RSA, §3.4 raw R||S for
  // EC), is this key's SHA-256 signature of `signing_input`.
  bool VerifySha256(std::string_view signing_input, std::string_view signature) const;

 private:
  friend Result<PublicKey> PublicKeyFromPem(std::string_view pem);
  friend Result<std::vector<PublicKey>> PublicKeysFromJwks(std::string_view jwks_json);
  // `key` once it is checked to be an RSA (>= 2048 bits) or EC P-256 public key; `what`
  // names it in errors.
  static Result<PublicKey> Adopt(EvpPkeyPtr key, std::string kid, std::string_view what);

  PublicKeyKind kind_ = PublicKeyKind::kRsa;
  std::string kid_;
  size_t signature_size_ = 0;
  EvpPkeyPtr key_;
};

// InvalidArgument when `pem` holds no usable public key (private keys are refused: configure
// the public half). An X.509 certificate is accepted and its public key used.
Result<PublicKey> PublicKeyFromPem(std::string_view pem);

// The signing keys of a JWKS ({"keys": [...]}). Keys Sluice cannot use for RS256/ES256 are
// skipped: other kty (including symmetric "oct" keys), other curves, `use` other than "sig",
// `alg` other than RS256/ES256. InvalidArgument for a malformed document or key, a key
// carrying private material, a repeated kid, or no usable key at all.
Result<std::vector<PublicKey>> PublicKeysFromJwks(std::string_view jwks_json);

}  // namespace sluice
