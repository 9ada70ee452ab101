#include "cache/cursor_cipher.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

namespace sluice {
namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<std::string> CursorCipher::NewKey() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), int(key.size())) != 1) {
    return Internal("cannot draw a random cursor key");
  }
  return key;
}

CursorCipher::CursorCipher(std::string_view key) {
  std::copy_n(key.begin(), std::min(key.size(), key_.size()), key_.begin());
}

std::string CursorCipher::Seal(std::string_view plain, std::string_view context) const {
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  // Should the generator fail, an empty cursor (which never opens) is safer than a nonce that
  // might repeat under the same key.
  if (RAND_bytes(nonce, int(kNonceBytes)) != 1) return {};
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  auto* body = nonce + kNonceBytes;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, Bytes(context), int(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &n, Bytes(plain), int(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kTagBytes), body + plain.size()) !=
          1) {
    return {};
  }
  return out;
}

std::optional<std::string> CursorCipher::Open(std::string_view sealed,
                                              std::string_view context) const {
  if (sealed.size() < kNonceBytes + kTagBytes) return std::nullopt;
  const size_t size = sealed.size() - kNonceBytes - kTagBytes;
  std::string plain(size, '\0');
  std::string tag(sealed.substr(kNonceBytes + size));
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), Bytes(sealed)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, Bytes(context), int(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &n, Bytes(sealed) + kNonceBytes, int(size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTagBytes), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out + n, &n) != 1) {
    return std::nullopt;  // tampered, truncated, or sealed with another key or context
  }
  return plain;
}

}  // namespace sluice
