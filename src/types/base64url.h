// Base64url without padding (RFC 7515 §2), strict: only [A-Za-z0-9_-], no '=', and the unused
// low bits of the last character must be zero. Strictness makes every token segment decode
// from exactly one spelling, so two parsers (ours and libjwt's) can never see different bytes
// and a signature cannot be re-spelled.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// The decoded bytes, or nullopt when `text` is not canonical unpadded base64url. `extra_capacity`
// reserves that many bytes past the end (simdjson wants padding after a document).
std::optional<std::string> DecodeBase64Url(std::string_view text, size_t extra_capacity = 0);

std::string EncodeBase64Url(std::string_view bytes);

}  // namespace sluice
