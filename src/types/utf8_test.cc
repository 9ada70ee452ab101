#include "types/utf8.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>

#include "types/value_text.h"

namespace sluice {
namespace {

TEST(Utf8, ValidatesAndReplacesIllFormedBytes) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  for (std::string_view bad : {"\xff", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                               "\xF4\x90\x80\x80", "\x80", "a\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
    const std::string fixed = ReplaceInvalidUtf8(bad);
    EXPECT_TRUE(IsValidUtf8(fixed)) << fixed;
    EXPECT_NE(fixed.find("\xEF\xBF\xBD"), std::string::npos);
  }
  EXPECT_EQ(ReplaceInvalidUtf8("id \xff!"), "id \xEF\xBF\xBD!");
  EXPECT_EQ(ReplaceInvalidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");  // valid text is kept
}

// Whatever bytes a string holds, AppendJsonString writes a JSON string a strict parser
// reads back; valid text comes back unchanged.
TEST(Utf8, JsonStringsAreValidWhateverTheBytes) {
  std::mt19937 rng(5);
  simdjson::dom::parser parser;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = char(rng() % 4 == 0 ? rng() % 256 : 0x20 + rng() % 95);
    std::string json;
    AppendJsonString(bytes, &json);
    auto parsed = parser.parse(json);
    ASSERT_FALSE(parsed.error()) << json;
    std::string_view back;
    ASSERT_FALSE(parsed.get(back));
    EXPECT_EQ(back, IsValidUtf8(bytes) ? bytes : ReplaceInvalidUtf8(bytes));
  }
}

}  // namespace
}  // namespace sluice
