// UTF-8 checks for text that reaches JSON or the cache from outside (sources, requests, error
// messages quoting input). Every JSON document Sluice writes must be valid UTF-8, which strict
// clients require, whatever bytes came in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice {

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF). Fast (SIMD) for the common case of valid text.
bool IsValidUtf8(std::string_view s);

// The length of the well-formed sequence `s` starts with (1 to 4), or 0 when it starts with a
// byte that begins none. `s` must not be empty.
size_t Utf8SequenceLength(std::string_view s);

// `s` with every byte that does not begin a well-formed sequence replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view s);

}  // namespace sluice
