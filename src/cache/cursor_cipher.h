// CursorCipher: seals keyset cursors (query_order.h) so a client can hand them back but read
// nothing from them. A cursor holds the last row's order values and row id; with a token whose
// fields omit the key, a readable cursor would leak hidden keys page by page. AES-256-GCM with
// a random nonce per cursor: opaque, and any change to a cursor fails to open. The key belongs
// to the cache version (stored in its metadata), so cursors survive restarts of the process
// that serves it; a cursor of another cache (another API node, a rebuilt version) is refused.
// Immutable after construction: safe to use from any thread.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

class CursorCipher {
 public:
  static constexpr size_t kKeyBytes = 32;
  // A fresh random key, for a new cache.
  static Result<std::string> NewKey();

  explicit CursorCipher(std::string_view key);

  // `context` (e.g. the table) is authenticated but not stored: a cursor only opens with the
  // same context.
  std::string Seal(std::string_view plain, std::string_view context) const;
  std::optional<std::string> Open(std::string_view sealed, std::string_view context) const;

 private:
  std::array<unsigned char, kKeyBytes> key_{};
};

}  // namespace sluice
