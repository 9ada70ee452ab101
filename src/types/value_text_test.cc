#include "types/value_text.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>

namespace sluice {
namespace {

std::string Json(FieldType type, const Value& v) {
  std::string out;
  AppendJsonValue(type, v, &out);
  return out;
}

TEST(ValueText, ParsesEveryTypeFromText) {
  EXPECT_EQ(*ParseValueText(FieldType::kBoolean, "TRUE"), Value(true));
  EXPECT_EQ(*ParseValueText(FieldType::kInt, "-42"), Value(int64_t{-42}));
  EXPECT_EQ(*ParseValueText(FieldType::kUInt, "18446744073709551615"),
            Value(uint64_t{18446744073709551615ULL}));
  EXPECT_TRUE(std::isnan(ParseValueText(FieldType::kFloat, "NaN")->as_float()));
  EXPECT_EQ(*ParseValueText(FieldType::kFloat, "-Infinity"), Value(-INFINITY));
  EXPECT_EQ(ParseValueText(FieldType::kDecimal, "1.10")->as_decimal().ToString(), "1.10");
  EXPECT_EQ(*ParseValueText(FieldType::kBinary, "\\x00ff"), Value(std::string("\0\xff", 2)));
  EXPECT_EQ(*ParseValueText(FieldType::kBinary, "AP8="), Value(std::string("\0\xff", 2)));
  EXPECT_EQ(*ParseValueText(FieldType::kPoint, "(1.5, -2)"), Value(Point{1.5, -2}));
  EXPECT_EQ(*ParseValueText(FieldType::kJson, "{\"a\": [1]}"), Value("{\"a\": [1]}"));
}

TEST(ValueText, RejectionsNameTheTypeAndText) {
  auto r = ParseValueText(FieldType::kInt, "12x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "invalid int '12x'");
  EXPECT_NE(ParseValueText(FieldType::kInt, "99999999999999999999")
                .status()
                .message()
                .find("out of range"),
            std::string::npos);
  EXPECT_FALSE(ParseValueText(FieldType::kUInt, "-1").ok());
  EXPECT_FALSE(ParseValueText(FieldType::kBoolean, "maybe").ok());
  EXPECT_FALSE(ParseValueText(FieldType::kJson, "{oops").ok());
  EXPECT_FALSE(ParseValueText(FieldType::kBinary, "\\x0").ok());
}

TEST(ValueText, JsonOutputFollowsTheRestContract) {
  EXPECT_EQ(Json(FieldType::kInt, Value(int64_t{9007199254740992})), "9007199254740992");
  EXPECT_EQ(Json(FieldType::kInt, Value(int64_t{9007199254740993})), "\"9007199254740993\"");
  EXPECT_EQ(Json(FieldType::kInt, Value(int64_t{-9007199254740993})), "\"-9007199254740993\"");
  EXPECT_EQ(Json(FieldType::kUInt, Value(uint64_t{18446744073709551615ULL})),
            "\"18446744073709551615\"");
  EXPECT_EQ(Json(FieldType::kDecimal, *ParseValueText(FieldType::kDecimal, "0.10")), "\"0.10\"");
  EXPECT_EQ(Json(FieldType::kTimestamp, Value(int64_t{1'500'000})), "\"1970-01-01T00:00:01.5Z\"");
  EXPECT_EQ(Json(FieldType::kBinary, Value(std::string("hi"))), "\"aGk=\"");
  EXPECT_EQ(Json(FieldType::kJson, Value("{\"a\":1}")), "{\"a\":1}");
  EXPECT_EQ(Json(FieldType::kString, Value::Null()), "null");
  EXPECT_EQ(Json(FieldType::kString, Value("a\"b\\c\n\x01ü")), "\"a\\\"b\\\\c\\n\\u0001ü\"");
  EXPECT_EQ(Json(FieldType::kFloat, Value(0.1)), "0.1");
  EXPECT_EQ(Json(FieldType::kFloat, Value(NAN)), "\"NaN\"");
  EXPECT_EQ(Json(FieldType::kPoint, Value(Point{1, 2.5})), "{\"x\":1,\"y\":2.5}");
}

// Whole floats from 2^63 up get an exponent: their shortest plain form is a digit string that
// parsers reading integers into 64 bits (simdjson, Sluice's own readers) refuse. Found by
// tests/fuzz/jsonl_fuzz.cc (a JSON Lines float of 18446744073709551615 printed unreadably).
TEST(ValueText, LargeWholeFloatsStayReadableJson) {
  EXPECT_EQ(Json(FieldType::kFloat, Value(18446744073709551615.0)), "1.8446744073709552e+19");
  EXPECT_EQ(Json(FieldType::kFloat, Value(-9223372036854775808.0)), "-9.223372036854776e+18");
  EXPECT_EQ(Json(FieldType::kFloat, Value(4611686018427387904.0)), "4611686018427387904");
  EXPECT_EQ(Json(FieldType::kFloat, Value(1e300)), "1e+300");
  EXPECT_EQ(Json(FieldType::kFloat, Value(-1.5)), "-1.5");
  simdjson::dom::parser parser;
  for (double d : {18446744073709551615.0, 1e20, 123456789012345678901.0, -1e19}) {
    const std::string json = Json(FieldType::kFloat, Value(d));
    simdjson::padded_string padded(json);
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(padded).get(e), simdjson::SUCCESS) << json;
    auto back = ValueFromJson(FieldType::kFloat, e);
    ASSERT_TRUE(back.ok()) << json;
    EXPECT_EQ(back->as_float(), d) << json;
  }
}

// Points are written with "NaN"/"Infinity" coordinates like floats, and read back the same
// way; a point with a NaN coordinate equals itself (as HashValue already assumed), so a keyless
// row holding one can be retracted. Found by tests/fuzz/value_codec_fuzz.cc.
TEST(ValueText, PointsWithNonFiniteCoordinatesRoundTrip) {
  const Value p(Point{NAN, -INFINITY});
  EXPECT_EQ(p, Value(Point{-NAN, -INFINITY}));
  EXPECT_EQ(HashValue(p), HashValue(Value(Point{-NAN, -INFINITY})));
  EXPECT_EQ(Value(Point{-0.0, 1}), Value(Point{0.0, 1}));
  EXPECT_FALSE(Value(Point{NAN, 1}) == Value(Point{NAN, 2}));
  const std::string json = Json(FieldType::kPoint, p);
  EXPECT_EQ(json, "{\"x\":\"NaN\",\"y\":\"-Infinity\"}");
  simdjson::dom::parser parser;
  for (const std::string& text : {json, std::string("[\"Infinity\", 2.5]")}) {
    simdjson::padded_string padded(text);
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(padded).get(e), simdjson::SUCCESS);
    auto back = ValueFromJson(FieldType::kPoint, e);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    if (text == json) EXPECT_EQ(*back, p);
  }
  simdjson::padded_string bad(std::string("{\"x\": \"north\", \"y\": 1}"));
  simdjson::dom::element e;
  ASSERT_EQ(parser.parse(bad).get(e), simdjson::SUCCESS);
  EXPECT_FALSE(ValueFromJson(FieldType::kPoint, e).ok());
}

// Strings are scanned eight bytes at a time: put each byte that needs escaping (and a
// multi-byte character) at every offset of a long string and read the JSON back.
TEST(ValueText, JsonStringsRoundTripWhereverEscapesFall) {
  simdjson::dom::parser parser;
  const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "é"};
  for (const std::string& special : specials) {
    for (size_t at = 0; at <= 20; ++at) {
      std::string text = std::string(at, 'a') + special + std::string(20 - at, 'b');
      std::string json = Json(FieldType::kString, Value(text));
      simdjson::dom::element back;
      ASSERT_EQ(parser.parse(json).get(back), simdjson::SUCCESS) << json;
      EXPECT_EQ(std::string(back.get_string().value()), text) << json;
    }
  }
}

TEST(ValueText, DecimalsAndTimestampsPrintExactlyAtTheirEdges) {
  auto decimal = [](const char* text) {
    return Json(FieldType::kDecimal, *ParseValueText(FieldType::kDecimal, text));
  };
  for (const char* text :
       {"18446744073709551615", "18446744073709551616", "-18446744073709551617",
        "0.00000000000000000000000000000000000001", "-99999999999999999999.5", "0", "-0.50"}) {
    EXPECT_EQ(decimal(text), "\"" + std::string(text) + "\"");
  }
  EXPECT_EQ(Json(FieldType::kTimestamp, Value(int64_t{-1})), "\"1969-12-31T23:59:59.999999Z\"");
  EXPECT_EQ(Json(FieldType::kTimestamp, Value(int64_t{253402300800000000})),
            "\"10000-01-01T00:00:00Z\"");
  EXPECT_EQ(Json(FieldType::kDate, Value(int64_t{-719529})), "\"-0001-12-31\"");
  EXPECT_EQ(Json(FieldType::kDuration, Value(int64_t{-3'723'040'000})), "\"-PT1H2M3.04S\"");
}

TEST(ValueText, FromJsonChecksTypes) {
  simdjson::dom::parser parser;
  auto get = [&](FieldType t, const char* json) {
    return ValueFromJson(t, parser.parse(json, std::strlen(json)).value());
  };
  EXPECT_EQ(*get(FieldType::kInt, "7"), Value(int64_t{7}));
  EXPECT_EQ(*get(FieldType::kInt, "\"7\""), Value(int64_t{7}));
  EXPECT_TRUE(get(FieldType::kInt, "null")->is_null());
  EXPECT_FALSE(get(FieldType::kInt, "7.5").ok());
  EXPECT_FALSE(get(FieldType::kInt, "true").ok());
  EXPECT_EQ(*get(FieldType::kFloat, "3"), Value(3.0));
  EXPECT_EQ(*get(FieldType::kJson, "{\"a\": [1, 2]}"), Value("{\"a\":[1,2]}"));
  EXPECT_EQ(*get(FieldType::kPoint, "[1, 2]"), Value(Point{1, 2}));
  EXPECT_EQ(*get(FieldType::kTimestamp, "\"1970-01-01T00:00:01Z\""), Value(int64_t{1'000'000}));
  EXPECT_FALSE(get(FieldType::kString, "12").ok());
}

}  // namespace
}  // namespace sluice
