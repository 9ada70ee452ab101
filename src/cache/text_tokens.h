// Word splitting for full-text indexes and $contains/$matches_any: Unicode word boundaries
// (ICU's word break rules, so "naïve café's" and CJK text split sensibly), case-folded, with
// punctuation and spaces dropped. Index and queries use the same function, so they agree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// The words of `text` in order (duplicates kept), each case-folded UTF-8.
std::vector<std::string> TextWords(std::string_view text);

}  // namespace sluice
