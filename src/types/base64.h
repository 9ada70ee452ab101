// Standard base64 (RFC 4648, with padding): how binary values travel in JSON and CSV.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice {

void AppendBase64(std::string_view bytes, std::string* out);
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace sluice
