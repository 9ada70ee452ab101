#include "types/decimal.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(Decimal, ParsesAndPrintsExactly) {
  for (const char* text : {"0", "12.50", "-0.001", "100", "99999999999999999999999999999999999999",
                           "-0.00000000000000000000000000000000000001"}) {
    auto d = Decimal::Parse(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    EXPECT_EQ(d->ToString(), text);
  }
  EXPECT_EQ(Decimal::Parse("1.5e3")->ToString(), "1500");
  EXPECT_EQ(Decimal::Parse("15e-1")->ToString(), "1.5");
  EXPECT_EQ(Decimal::Parse("+7")->ToString(), "7");
}

// Arithmetic can give zero (or small values) scales beyond 38 digits; printing pads them.
TEST(Decimal, PrintsScalesBeyondItsDigits) {
  EXPECT_EQ(Decimal(0, 45).ToString(), "0." + std::string(45, '0'));
  EXPECT_EQ(Decimal(-7, 41).ToString(), "-0." + std::string(40, '0') + "7");
  EXPECT_EQ(Decimal(123, 3).ToString(), "0.123");
  EXPECT_EQ(Decimal(123, 2).ToString(), "1.23");
  EXPECT_EQ(Decimal(-5, 0).ToString(), "-5");
}

TEST(Decimal, RejectsWhatItCannotHoldExactly) {
  EXPECT_FALSE(Decimal::Parse("123456789012345678901234567890123456789").ok());  // 39 digits
  EXPECT_FALSE(Decimal::Parse("1e40").ok());
  EXPECT_FALSE(Decimal::Parse("").ok());
  EXPECT_FALSE(Decimal::Parse("1.2.3").ok());
  EXPECT_FALSE(Decimal::Parse("12abc").ok());
  EXPECT_NE(Decimal::Parse("1x").status().message().find("'1x'"), std::string::npos);
}

TEST(Decimal, ComparesByValueAcrossScales) {
  auto d = [](const char* t) { return *Decimal::Parse(t); };
  EXPECT_EQ(d("1.50"), d("1.5"));
  EXPECT_LT(d("1.49"), d("1.5"));
  EXPECT_LT(d("-2"), d("-1.99"));
  EXPECT_LT(d("-0.5"), d("0"));
  EXPECT_LT(d("0"), d("0.0000001"));
  EXPECT_LT(d("9.99"), d("10"));
  EXPECT_GT(d("99999999999999999999999999999999999999"), d("0.1"));
}

}  // namespace
}  // namespace sluice
