#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/row_json.h"
#include "types/tagged_record.h"
#include "types/value_text.h"

namespace sluice {
namespace {

Schema AllTypesSchema() {
  Schema s;
  int i = 0;
  for (FieldType t : {FieldType::kBoolean, FieldType::kInt, FieldType::kUInt, FieldType::kFloat,
                      FieldType::kDecimal, FieldType::kString, FieldType::kText, FieldType::kBinary,
                      FieldType::kDate, FieldType::kTimestamp, FieldType::kDuration,
                      FieldType::kJson, FieldType::kPoint}) {
    s.fields.push_back({"f" + std::to_string(i++), t, true});
  }
  return s;
}

Record SampleRecord(int variant) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (variant) {
    case 0:
      return {Value(true),
              Value(int64_t{-5}),
              Value(uint64_t{7}),
              Value(nan),
              Value(*Decimal::Parse("-12.345")),
              Value(""),
              Value("héllo wörld ✓"),
              Value(std::string("\0\x01\xff", 3)),
              Value(int64_t{-1}),
              Value(std::numeric_limits<int64_t>::min()),
              Value(int64_t{0}),
              Value("[]"),
              Value(Point{-0.5, 1e300})};
    case 1:
      return Record(13);  // all NULL
    default:
      return {Value(false),
              Value(std::numeric_limits<int64_t>::max()),
              Value(std::numeric_limits<uint64_t>::max()),
              Value(-INFINITY),
              Value(*Decimal::Parse("99999999999999999999999999999999999999")),
              Value(std::string("a\0b", 3)),
              Value::Null(),
              Value(""),
              Value(int64_t{20000}),
              Value(int64_t{1}),
              Value(int64_t{-86400}),
              Value::Null(),
              Value::Null()};
  }
}

TEST(RowCodec, RoundTripsEveryTypeWithNulls) {
  Schema schema = AllTypesSchema();
  for (int v = 0; v < 3; ++v) {
    Record r = SampleRecord(v);
    std::string bytes;
    EncodeRow(schema, r, &bytes);
    auto back = DecodeRow(schema, bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), r.size());
    for (size_t i = 0; i < r.size(); ++i)
      EXPECT_EQ((*back)[i], r[i]) << "variant " << v << " f" << i;
  }
}

TEST(RowCodec, TruncatedRowsAreErrorsNotCrashes) {
  Schema schema = AllTypesSchema();
  std::string bytes;
  EncodeRow(schema, SampleRecord(0), &bytes);
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_FALSE(DecodeRow(schema, std::string_view(bytes).substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(DecodeRow(schema, bytes + "x").ok());
}

// A stored decimal beyond 38 digits (or 38 decimals, unless zero) is corruption, not a value:
// -2^127 made the key codec negate it, a scale of 200 wrapped its exponent (undefined
// behaviour in DecodeKey). Found by tests/fuzz/value_codec_fuzz.cc.
TEST(RowCodec, DecimalsBeyond38DigitsAreCorrupt) {
  Schema schema{{{"d", FieldType::kDecimal, true}}, {}};
  const __int128 max = kMaxStoredCoefficient;
  for (__int128 c : {max, -max, __int128(0)}) {
    std::string bytes;
    EncodeRow(schema, {Value(Decimal(c, 2))}, &bytes);
    auto back = DecodeRow(schema, bytes);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE((*back)[0] == Value(Decimal(c, 2)));
  }
  std::string zero;  // a zero may carry any scale (rounding 0 to 50 places)
  EncodeRow(schema, {Value(Decimal(0, 50))}, &zero);
  EXPECT_TRUE(DecodeRow(schema, zero).ok());
  const __int128 min = static_cast<__int128>(static_cast<unsigned __int128>(1) << 127);
  for (__int128 c : {max + 1, -max - 1, min}) {
    std::string bytes;
    EncodeRow(schema, {Value(Decimal(c, 0))}, &bytes);
    EXPECT_EQ(DecodeRow(schema, bytes).status().code(), StatusCode::kDataLoss);
    std::string scaled;
    EncodeRow(schema, {Value(Decimal(c == min ? 1 : c / 10, 39))}, &scaled);
    EXPECT_EQ(DecodeRow(schema, scaled).status().code(), StatusCode::kDataLoss);
    std::string tagged;
    EncodeTaggedRecord({Value(Decimal(c, 0))}, &tagged);
    EXPECT_FALSE(DecodeTaggedRecord(tagged).ok());
  }
}

TEST(TaggedRecord, RoundTripsEveryKindWithoutASchema) {
  for (int v = 0; v < 3; ++v) {
    Record r = SampleRecord(v);
    r.push_back(Value(*Decimal::Parse("12.500")));  // the scale must survive, not just the value
    std::string bytes;
    EncodeTaggedRecord(r, &bytes);
    auto back = DecodeTaggedRecord(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ((*back)[i], r[i]) << "variant " << v << " f" << i;
      EXPECT_EQ((*back)[i].DebugString(), r[i].DebugString()) << "variant " << v << " f" << i;
    }
  }
}

TEST(TaggedRecord, TruncatedOrTrailingBytesAreErrors) {
  std::string bytes;
  EncodeTaggedRecord(SampleRecord(0), &bytes);
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_FALSE(DecodeTaggedRecord(std::string_view(bytes).substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(DecodeTaggedRecord(bytes + "x").ok());
  EXPECT_FALSE(DecodeTaggedRecord("\x01\x2a").ok());  // an unknown kind
}

TEST(KeyCodec, RoundTripsEveryType) {
  Schema schema = AllTypesSchema();
  std::vector<FieldType> types;
  std::vector<size_t> cols;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    types.push_back(schema.fields[i].type);
    cols.push_back(i);
  }
  for (int v = 0; v < 3; ++v) {
    Record r = SampleRecord(v);
    std::string key;
    EncodeKey(schema, r, cols, &key);
    auto back = DecodeKey(types, key);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    for (size_t i = 0; i < r.size(); ++i)
      EXPECT_EQ((*back)[i], r[i]) << "variant " << v << " f" << i;
  }
}

std::string Key(FieldType t, const Value& v) {
  std::string k;
  EncodeKeyValue(t, v, &k);
  return k;
}

// Checks that memcmp order of encoded keys equals `expected` order of the values.
void ExpectOrdered(FieldType t, const std::vector<Value>& ascending) {
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    EXPECT_LT(Key(t, ascending[i]), Key(t, ascending[i + 1]))
        << ascending[i].DebugString() << " < " << ascending[i + 1].DebugString();
  }
}

TEST(KeyCodec, PreservesOrderWithNullsLastAndNanHighest) {
  ExpectOrdered(FieldType::kInt,
                {Value(std::numeric_limits<int64_t>::min()), Value(int64_t{-1}), Value(int64_t{0}),
                 Value(int64_t{1}), Value(std::numeric_limits<int64_t>::max()), Value::Null()});
  ExpectOrdered(FieldType::kFloat,
                {Value(-INFINITY), Value(-1e300), Value(-1.0), Value(0.0), Value(1e-300),
                 Value(2.5), Value(INFINITY), Value(NAN), Value::Null()});
  ExpectOrdered(FieldType::kString,
                {Value(""), Value(std::string("\0", 1)), Value(std::string("\0\0", 2)), Value("a"),
                 Value(std::string("a\0", 2)), Value("ab"), Value("b"), Value("é"), Value::Null()});
  std::vector<Value> decimals;
  for (const char* d : {"-1000", "-999.99", "-1", "-0.5", "-0.05", "0", "0.0001", "0.5", "1",
                        "1.0001", "9.99", "10", "12345678901234567890"}) {
    decimals.emplace_back(*Decimal::Parse(d));
  }
  ExpectOrdered(FieldType::kDecimal, decimals);
  EXPECT_EQ(Key(FieldType::kDecimal, Value(*Decimal::Parse("1.50"))),
            Key(FieldType::kDecimal, Value(*Decimal::Parse("1.5"))));
  EXPECT_EQ(Key(FieldType::kFloat, Value(-0.0)), Key(FieldType::kFloat, Value(0.0)));
}

TEST(KeyCodec, RandomIntsAndStringsSortLikeTheirValues) {
  std::mt19937_64 rng(42);
  std::vector<std::pair<int64_t, std::string>> rows;
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    for (int n = int(rng() % 4); n > 0; --n) s.push_back(char(rng() % 3));  // many \0 and prefixes
    rows.emplace_back(int64_t(rng() % 7) - 3, s);
  }
  Schema schema{{{"a", FieldType::kInt, true}, {"b", FieldType::kString, true}}, {}};
  auto key = [&](const auto& p) {
    std::string k;
    EncodeKey(schema, {Value(p.first), Value(p.second)}, {0, 1}, &k);
    return k;
  };
  auto by_value = rows;
  std::sort(by_value.begin(), by_value.end());
  auto by_key = rows;
  std::sort(by_key.begin(), by_key.end(), [&](auto& x, auto& y) { return key(x) < key(y); });
  EXPECT_EQ(by_value, by_key);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(RowJson, MatchesValueByValueJson) {
  Schema schema = AllTypesSchema();
  auto prefixes = JsonFieldPrefixes(schema);
  for (int v = 0; v < 3; ++v) {
    Record r = SampleRecord(v);
    std::string bytes;
    EncodeRow(schema, r, &bytes);
    std::string expected = "{";
    for (size_t i = 0; i < r.size(); ++i) {
      if (i) expected += ",";
      expected += "\"" + schema.fields[i].name + "\":";
      AppendJsonValue(schema.fields[i].type, r[i], &expected);
    }
    expected += "}";
    std::string got = "[";
    ASSERT_TRUE(AppendRowJson(schema, bytes, prefixes, &got).ok());
    EXPECT_EQ(got, "[" + expected) << "variant " << v;
    std::string untouched = "x";
    EXPECT_FALSE(
        AppendRowJson(schema, bytes.substr(0, bytes.size() - 1), prefixes, &untouched).ok());
    EXPECT_EQ(untouched, "x") << "a failed row must not leave half an object behind";
  }
}

}  // namespace
}  // namespace sluice
