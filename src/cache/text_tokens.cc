#include "cache/text_tokens.h"

#include <unicode/ubrk.h>
#include <unicode/ustring.h>

#include <memory>

namespace sluice {
namespace {

struct BreakIteratorCloser {
  void operator()(UBreakIterator* it) const { ubrk_close(it); }
};

// ICU iterators are costly to open; each thread keeps one and re-targets it.
UBreakIterator* ThreadWordIterator() {
  thread_local std::unique_ptr<UBreakIterator, BreakIteratorCloser> iterator = [] {
    UErrorCode status = U_ZERO_ERROR;
    UBreakIterator* it = ubrk_open(UBRK_WORD, "", nullptr, 0, &status);
    return std::unique_ptr<UBreakIterator, BreakIteratorCloser>(U_SUCCESS(status) ? it : nullptr);
  }();
  return iterator.get();
}

std::string FoldToUtf8(const UChar* word, int32_t length) {
  UErrorCode status = U_ZERO_ERROR;
  std::u16string folded(size_t(length) * 2 + 4, u'\0');
  int32_t folded_length = u_strFoldCase(folded.data(), int32_t(folded.size()), word, length,
                                        U_FOLD_CASE_DEFAULT, &status);
  if (U_FAILURE(status)) return {};
  std::string out(size_t(folded_length) * 3 + 4, '\0');
  int32_t out_length = 0;
  status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), int32_t(out.size()), &out_length, folded.data(), folded_length, &status);
  if (U_FAILURE(status)) return {};
  out.resize(size_t(out_length));
  return out;
}

}  // namespace

std::vector<std::string> TextWords(std::string_view text) {
  std::vector<std::string> words;
  if (text.empty()) return words;
  UErrorCode status = U_ZERO_ERROR;
  int32_t length16 = 0;
  u_strFromUTF8WithSub(nullptr, 0, &length16, text.data(), int32_t(text.size()), 0xFFFD, nullptr,
                       &status);
  std::u16string utf16(size_t(length16), u'\0');
  status = U_ZERO_ERROR;
  u_strFromUTF8WithSub(utf16.data(), length16, nullptr, text.data(), int32_t(text.size()), 0xFFFD,
                       nullptr, &status);
  UBreakIterator* it = ThreadWordIterator();
  if (U_FAILURE(status) || !it) return words;
  status = U_ZERO_ERROR;
  ubrk_setText(it, utf16.data(), length16, &status);
  if (U_FAILURE(status)) return words;
  int32_t start = ubrk_first(it);
  for (int32_t end = ubrk_next(it); end != UBRK_DONE; start = end, end = ubrk_next(it)) {
    // Rule status below UBRK_WORD_NONE_LIMIT: spaces and punctuation, not words.
    if (ubrk_getRuleStatus(it) < UBRK_WORD_NONE_LIMIT) continue;
    std::string word = FoldToUtf8(utf16.data() + start, end - start);
    if (!word.empty()) words.push_back(std::move(word));
  }
  ubrk_setText(it, nullptr, 0, &status);
  return words;
}

}  // namespace sluice
