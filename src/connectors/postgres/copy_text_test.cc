#include "connectors/postgres/copy_text.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

using Fields = std::vector<std::optional<std::string>>;

TEST(CopyText, SplitsFieldsAndDecodesEscapes) {
  Fields f;
  ASSERT_TRUE(ParseCopyTextRow("1\t\\N\ta\\tb\\nc\\\\d\t\\101\\x42\t\n", f).ok());
  EXPECT_EQ(f, (Fields{"1", std::nullopt, "a\tb\nc\\d", "AB", ""}));
  ASSERT_TRUE(ParseCopyTextRow("", f).ok());
  EXPECT_EQ(f, (Fields{""}));
  EXPECT_FALSE(ParseCopyTextRow("broken\\", f).ok());
  // The snapshot path against real COPY output is covered by tests/e2e/test_postgres_cdc.py.
}

}  // namespace
}  // namespace sluice
