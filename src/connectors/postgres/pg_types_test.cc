#include "connectors/postgres/pg_types.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "postgres_suite.h"
#include "types/time_util.h"

namespace sluice {
namespace {

using sluice::testing::PgConnection;
using sluice::testing::PostgresServer;

constexpr uint32_t kPoint = 600, kPointArray = 1017, kInt2Vector = 22;

PgColumnType Map(uint32_t oid, const PgTypeCatalog& catalog = {}) {
  auto t = MapPgType(oid, -1, catalog);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : PgColumnType{};
}

TEST(MapPgType, BuiltinTypes) {
  struct Case {
    uint32_t oid;
    FieldType type;
  };
  for (Case c : std::vector<Case>{{16, FieldType::kBoolean},     {17, FieldType::kBinary},
                                  {19, FieldType::kString},      {20, FieldType::kInt},
                                  {21, FieldType::kInt},         {23, FieldType::kInt},
                                  {25, FieldType::kString},      {26, FieldType::kInt},
                                  {114, FieldType::kJson},       {700, FieldType::kFloat},
                                  {701, FieldType::kFloat},      {1042, FieldType::kString},
                                  {1043, FieldType::kString},    {1082, FieldType::kDate},
                                  {1083, FieldType::kString},    {1114, FieldType::kTimestamp},
                                  {1184, FieldType::kTimestamp}, {1186, FieldType::kDuration},
                                  {1266, FieldType::kString},    {1700, FieldType::kDecimal},
                                  {2950, FieldType::kString},    {3802, FieldType::kJson},
                                  {1007, FieldType::kJson},      {1009, FieldType::kJson},
                                  {1231, FieldType::kJson},      {1115, FieldType::kJson}}) {
    PgColumnType t = Map(c.oid);
    EXPECT_EQ(t.field_type, c.type) << c.oid;
    EXPECT_FALSE(t.kept_as_text) << c.oid;
    EXPECT_EQ(t.type_oid, c.oid);
  }
  PgColumnType ints = Map(1007);
  EXPECT_EQ(ints.format, PgTextFormat::kArray);
  EXPECT_EQ(ints.element_format, PgTextFormat::kInt);
  EXPECT_EQ(ints.element_field_type, FieldType::kInt);
  auto numeric = MapPgType(1700, (10 << 16 | 2) + 4);
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->typmod, (10 << 16 | 2) + 4);
}

TEST(MapPgType, UnknownTypesAreKeptAsText) {
  for (uint32_t oid : {kPoint, kPointArray, kInt2Vector, 99999u}) {
    PgColumnType t = Map(oid);
    EXPECT_EQ(t.field_type, FieldType::kString) << oid;
    EXPECT_EQ(t.format, PgTextFormat::kText) << oid;
    EXPECT_TRUE(t.kept_as_text) << oid;
  }
  auto point = ParsePgText(Map(kPoint), "(1,2)");
  ASSERT_TRUE(point.ok());
  EXPECT_EQ(point->as_string(), "(1,2)");
}

TEST(MapPgType, CatalogTypesEnumsDomainsAndTheirArrays) {
  PgTypeCatalog catalog;
  catalog.enums = {20000};
  catalog.strings = {20010};                 // citext
  catalog.array_elements = {{20001, 20000},  // _mood
                            {20011, 20010},  // _citext
                            {20003, 20002},  // array of the domain below
                            {20005, kPoint}};
  catalog.domain_bases = {{20002, 23}, {20004, 20002}, {20006, 1007}};
  EXPECT_EQ(Map(20000, catalog).field_type, FieldType::kString);
  EXPECT_FALSE(Map(20000, catalog).kept_as_text);
  EXPECT_FALSE(Map(20010, catalog).kept_as_text);
  EXPECT_EQ(Map(20001, catalog).format, PgTextFormat::kArray);
  EXPECT_EQ(Map(20001, catalog).element_field_type, FieldType::kString);
  EXPECT_EQ(Map(20011, catalog).format, PgTextFormat::kArray);
  EXPECT_EQ(Map(20002, catalog).field_type, FieldType::kInt);
  EXPECT_EQ(Map(20004, catalog).field_type, FieldType::kInt);  // domain over a domain
  EXPECT_EQ(Map(20004, catalog).type_oid, 20004u);
  EXPECT_EQ(Map(20003, catalog).element_format, PgTextFormat::kInt);
  EXPECT_EQ(Map(20006, catalog).format, PgTextFormat::kArray);  // domain over int4[]
  EXPECT_TRUE(Map(20005, catalog).kept_as_text);                // array of point
  EXPECT_TRUE(Map(20000).kept_as_text);                         // an enum nobody declared

  catalog.domain_bases = {{30000, 30001}, {30001, 30000}};
  auto cycle = MapPgType(30000, -1, catalog);
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("cycle"), std::string::npos);
}

// Text PostgreSQL does not write with the documented settings, or at all.
TEST(ParsePgText, MalformedTextIsInvalidArgument) {
  struct Case {
    uint32_t oid;
    std::string text;
    std::string needle;
  };
  for (const Case& c : std::vector<Case>{
           {16, "yes", "expected t or f"},
           {23, "12x", "invalid PostgreSQL integer '12x'"},
           {701, "1.5.5", "invalid PostgreSQL float"},
           {17, "abc", "set bytea_output=hex"},
           {17, "\\x0", "even number of hex digits"},
           {2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "8-4-4-4-12"},
           {2950, "a0eebc99+9c0b-4ef8-bb6d-6bb9bd380a11", "8-4-4-4-12"},
           {1082, "02.01.2020", "set DateStyle=ISO"},
           {1114, "2020-01-01T10:00:00", "set DateStyle=ISO"},
           {1114, "2020-01-01 10:00:00+00", "set DateStyle=ISO"},
           {1184, "2020-01-01 10:00:00", "+HH[:MM[:SS]]"},
           {1184, "2020-01-01 10:00:00+5", "+HH[:MM[:SS]]"},
           {1184, "2020-01-01 10:00:00+05:30:00:00", "+HH[:MM[:SS]]"},
           {1186, "P1Y2M", "set IntervalStyle=postgres"},
           {1186, "1-2", "set IntervalStyle=postgres"},
           {1186, "1 fortnight", "set IntervalStyle=postgres"},
           {1186, "", "set IntervalStyle=postgres"},
           {1186, "01:02:03 04:05:06", "set IntervalStyle=postgres"},
           {1186, "1:2:3", "set IntervalStyle=postgres"},
           {1007, "{1,2", "at byte 4: unterminated array"},
           {1007, "{1,2}x", "at byte 5: unexpected text after the closing '}'"},
           {1007, "1,2", "at byte 0: expected '{'"},
           {1007, "{1,,2}", "at byte 3: empty element"},
           {1007, "{1,x}", "element invalid PostgreSQL integer 'x'"},
           {1009, "{\"abc}", "unterminated quoted element"},
           {1007, "{{{{{{{1}}}}}}}", "more than 6 dimensions"},
           {1007, "[1:2]{1,2}", "dimension bounds without '='"},
       }) {
    auto r = ParsePgText(Map(c.oid), c.text);
    ASSERT_FALSE(r.ok()) << c.oid << " '" << c.text << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status().ToString() << "\n  expected to contain: " << c.needle;
  }
  // Long values are shortened in messages.
  auto r = ParsePgText(Map(23), std::string(1000, '7'));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 400u);
  EXPECT_NE(r.status().message().find("(1000 bytes)"), std::string::npos);
}

// Random text in every format: a value or an error, never a crash or an out-of-bounds read.
TEST(ParsePgText, RandomTextNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "{}\",\\ NUL0123456789.-+:[]=eExTtfPnaAIiy";
  for (uint32_t oid : {16u, 23u, 1700u, 701u, 17u, 2950u, 1082u, 1114u, 1184u, 1186u, 1007u, 1009u,
                       1231u, 1115u, 1187u}) {
    const PgColumnType type = Map(oid);
    for (int i = 0; i < 20000; ++i) {
      std::string text(rng() % 24, ' ');
      for (char& c : text) c = alphabet[rng() % alphabet.size()];
      (void)ParsePgText(type, text);
    }
  }
}

// ---- Against a real PostgreSQL ----

class PgTypesTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    PostgresSuite::SetUp();
    if (HasFatalFailure()) return;
    // What the connector sets on its own session.
    Exec(
        "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = UTC; "
        "SET bytea_output = hex; SET extra_float_digits = 3");
  }

  std::vector<std::vector<std::optional<std::string>>> Query(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    return rows.ok() ? std::move(rows).value()
                     : std::vector<std::vector<std::optional<std::string>>>{};
  }

  // The catalog as the connector would read it from pg_type.
  PgTypeCatalog ReadCatalog() {
    PgTypeCatalog catalog;
    for (auto& row : Query("SELECT oid, typtype, typcategory, typelem, typbasetype FROM pg_type "
                           "WHERE oid >= 16384")) {
      uint32_t oid = uint32_t(std::stoul(*row[0]));
      if (*row[1] == "e") catalog.enums.insert(oid);
      if (*row[1] == "d") catalog.domain_bases[oid] = uint32_t(std::stoul(*row[4]));
      if (*row[1] != "d" && *row[2] == "S") catalog.strings.insert(oid);
      if (*row[2] == "A") catalog.array_elements[oid] = uint32_t(std::stoul(*row[3]));
    }
    return catalog;
  }

  // Maps the type of the expression PostgreSQL gives `sql` and parses its text output.
  Result<Value> ParseAsPostgresWrites(const std::string& sql, PgColumnType* type = nullptr) {
    auto rows =
        Query("SELECT v::text IS NULL, pg_typeof(v)::oid, v FROM (SELECT " + sql + " AS v) s");
    if (rows.size() != 1 || !rows[0][2]) return Internal("no value for " + sql);
    ASSIGN_OR_RETURN(PgColumnType t,
                     MapPgType(uint32_t(std::stoul(*rows[0][1])), -1, ReadCatalog()));
    if (type) *type = t;
    return ParsePgText(t, *rows[0][2]);
  }

  // Our JSON text as PostgreSQL's jsonb writes it, so numbers compare by value.
  std::string AsJsonb(const std::string& json) {
    std::string quoted;
    for (char c : json) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    auto rows = Query("SELECT '" + quoted + "'::jsonb::text");
    return rows.empty() || !rows[0][0] ? "<invalid json: " + json + ">" : *rows[0][0];
  }
};

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// How a column's parsed value is checked against what PostgreSQL computes from the column.
enum class Check {
  kBool,         // CASE WHEN c THEN 'true' ...
  kInt,          // c::text
  kDecimal,      // c::text: the decimal keeps PostgreSQL's digits and scale
  kFloat4Bits,   // float4send: the exact bits
  kFloat8Bits,   // float8send
  kString,       // format('%s', c): the output function's text, padding included
  kBytes,        // encode(c, 'hex')
  kEpochMicros,  // extract(epoch from c) * 1e6
  kDays,         // c - '1970-01-01'
  kArrayJsonb,   // array_to_json(c)::jsonb, our JSON also read back as jsonb
  kArrayMicros,  // per element: extract(epoch from e) * 1e6 vs our RFC 3339 / ISO 8601
  kArrayDays,    // per element: e - '1970-01-01'
  kArrayBase64,  // per element: encode(e, 'base64')
};

std::string Reference(Check check, const std::string& c) {
  auto per_element = [&](const std::string& expr) {
    return "(SELECT json_agg(" + expr + " ORDER BY i) FROM unnest(" + c +
           ") WITH ORDINALITY u(e, i))::text";
  };
  switch (check) {
    case Check::kBool:
      return "CASE WHEN " + c + " THEN 'true' ELSE 'false' END";
    case Check::kInt:
    case Check::kDecimal:
      return c + "::text";
    case Check::kFloat4Bits:
      return "encode(float4send(" + c + "), 'hex')";
    case Check::kFloat8Bits:
      return "encode(float8send(" + c + "), 'hex')";
    case Check::kString:
      return "format('%s', " + c + ")";
    case Check::kBytes:
      return "encode(" + c + ", 'hex')";
    case Check::kEpochMicros:
      return "(extract(epoch FROM " + c + ") * 1000000)::bigint::text";
    case Check::kDays:
      return "(" + c + " - date '1970-01-01')::text";
    case Check::kArrayJsonb:
      return "array_to_json(" + c + ")::jsonb::text";
    case Check::kArrayMicros:
      return per_element("(extract(epoch FROM e) * 1000000)::bigint");
    case Check::kArrayDays:
      return per_element("e - date '1970-01-01'");
    case Check::kArrayBase64:
      return per_element("encode(e, 'base64')");
  }
  return "";
}

struct TypeCase {
  std::string sql_type;
  FieldType field_type;
  Check check;
  std::vector<std::string> values;  // SQL expressions, one row each
  bool kept_as_text = false;
};

std::vector<TypeCase> EveryType() {
  using F = FieldType;
  return {
      {"bool", F::kBoolean, Check::kBool, {"true", "false"}},
      {"int2", F::kInt, Check::kInt, {"-32768", "32767", "0"}},
      {"int4", F::kInt, Check::kInt, {"-2147483648", "2147483647"}},
      {"int8", F::kInt, Check::kInt, {"-9223372036854775808", "9223372036854775807"}},
      {"oid", F::kInt, Check::kInt, {"0", "4294967295"}},
      {"positive_int", F::kInt, Check::kInt, {"1", "2147483647"}},  // a domain
      {"numeric",
       F::kDecimal,
       Check::kDecimal,
       {"0", "-1.50", "12345678901234567890.123456789012345678",
        "-99999999999999999999999999999999999999", "0.00000000000000000000000000000000000001",
        "1e20", "1.000", "-0.0"}},
      {"numeric(10,2)", F::kDecimal, Check::kDecimal, {"3.14159", "-12345678.9"}},
      {"float4",
       F::kFloat,
       Check::kFloat4Bits,
       {"0.1", "-3.4e38", "1e-45", "'NaN'", "'Infinity'", "'-Infinity'", "16777217"}},
      {"float8",
       F::kFloat,
       Check::kFloat8Bits,
       {"0.1", "1e308", "5e-324", "'-0'", "'NaN'", "'Infinity'", "'-Infinity'",
        "1.2345678901234567", "123456789012345680000"}},
      {"text",
       F::kString,
       Check::kString,
       {"''", "'héllo wörld ✓ 😀'", "E'tab\\there\\nnewline'", "'quote '' and \\ backslash'",
        "repeat('long ', 1000)"}},
      {"varchar(10)", F::kString, Check::kString, {"'abc'"}},
      {"char(5)", F::kString, Check::kString, {"'ab'", "'abcde'"}},
      {"\"char\"", F::kString, Check::kString, {"'x'"}},
      {"name", F::kString, Check::kString, {"'some_name'"}},
      {"citext_like", F::kString, Check::kString, {"'Mixed Case'"}},  // a string base type
      {"mood", F::kString, Check::kString, {"'sad'", "'happy'"}},
      {"uuid",
       F::kString,
       Check::kString,
       {"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'{00000000-0000-0000-0000-000000000000}'"}},
      {"bytea", F::kBinary, Check::kBytes, {"'\\x'", "'\\x00ff10'", "'\\xDEADBEEF'"}},
      {"date",
       F::kDate,
       Check::kDays,
       {"'2020-02-29'", "'0001-01-01'", "'9999-12-31'", "'1969-12-31'"}},
      {"time", F::kString, Check::kString, {"'00:00'", "'23:59:59.999999'", "'12:34:56.5'"}},
      {"timetz", F::kString, Check::kString, {"'12:34:56.5+05:30'", "'00:00:00-08'"}},
      {"timestamp",
       F::kTimestamp,
       Check::kEpochMicros,
       {"'2020-01-01 10:00:00'", "'1969-12-31 23:59:59.999999'", "'0001-01-01 00:00:00'",
        "'9999-12-31 23:59:59.999999'", "'2000-02-29 12:00:00.5'"}},
      {"timestamptz",
       F::kTimestamp,
       Check::kEpochMicros,
       {"'2020-01-01 10:00:00+00'", "'2020-06-01 12:00:00+05:30'", "'2020-01-01 12:00:00-08'",
        "'1900-01-01 00:00:00+00:19:32'", "'1969-12-31 23:59:59.999999+00'",
        "'0001-01-01 00:00:00+00'"}},
      {"interval",
       F::kDuration,
       Check::kEpochMicros,
       {"'1 mon 2 days 03:04:05.5'", "'-1 year'", "'-1 years -2 mons +3 days -04:05:06'",
        "'1 day -00:00:00.000001'", "'-00:00:01.5'", "'100 hours'", "'0'", "'-14 mons'",
        "'13 mons'", "'2562047788:00:54.775807'", "'-2562047788:00:54.775807'",
        "'3 years 11 mons -400 days'"}},
      {"json",
       F::kJson,
       Check::kString,
       {"'{\"b\":1,  \"a\":[1,2.50], \"a\": null}'", "'\"just a string\"'", "'null'",
        "'{\"big\": 123456789012345678901234567890, \"e\": 1e400}'"}},
      {"jsonb",
       F::kJson,
       Check::kString,
       {"'{\"b\":1,  \"a\":[1,2.50]}'", "'[]'", "'{\"big\": 123456789012345678901234567890}'"}},
      {"point", F::kString, Check::kString, {"'(1,2)'"}, /*kept_as_text=*/true},
      {"int4[]",
       F::kJson,
       Check::kArrayJsonb,
       {"'{1,2,NULL}'", "'{{1,2},{3,4}}'", "'[0:1]={7,8}'", "'{}'", "'{{NULL,1},{2,3}}'",
        "'[1:2][3:4]={{1,2},{3,4}}'", "'{{{1}},{{2}}}'"}},
      {"int8[]", F::kJson, Check::kArrayJsonb, {"'{9223372036854775807,-9223372036854775808}'"}},
      {"text[]",
       F::kJson,
       Check::kArrayJsonb,
       {"ARRAY['a b', 'c\"d', 'e\\f', NULL, 'NULL', 'null', '', 'x', '{}', 'é ü ✓ 😀', "
        "E'tab\\there', 'comma,here', ' lead', 'trail ', E'new\\nline', '\\\\', '\"']",
        "ARRAY[ARRAY['a', NULL], ARRAY['{', '}']]"}},
      {"bool[]", F::kJson, Check::kArrayJsonb, {"'{t,f,NULL}'"}},
      {"numeric[]",
       F::kJson,
       Check::kArrayJsonb,
       {"'{1.50,-0.001,NULL,12345678901234567890123456789012345678,1e-30}'"}},
      {"float8[]", F::kJson, Check::kArrayJsonb, {"'{NaN,Infinity,-Infinity,1e20,0.1,-0,5e-324}'"}},
      {"float4[]", F::kJson, Check::kArrayJsonb, {"'{0.1,1e-45,3.4e38}'"}},
      {"uuid[]", F::kJson, Check::kArrayJsonb, {"'{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11,NULL}'"}},
      {"jsonb[]",
       F::kJson,
       Check::kArrayJsonb,
       {"ARRAY['{\"a\": [1, \"x\"]}'::jsonb, 'null', NULL, '\"s\"', '1.50']"}},
      {"json[]", F::kJson, Check::kArrayJsonb, {"ARRAY['{\"k\":1}'::json, '[1, 2]']"}},
      {"mood[]", F::kJson, Check::kArrayJsonb, {"'{sad,happy,NULL}'"}},
      {"varchar[]", F::kJson, Check::kArrayJsonb, {"'{abc,\"d e\"}'"}},
      {"char(3)[]", F::kJson, Check::kArrayJsonb, {"'{a,bcd}'"}},
      {"time[]", F::kJson, Check::kArrayJsonb, {"'{12:00,23:59:59.5}'"}},
      {"positive_int[]", F::kJson, Check::kArrayJsonb, {"'{1,2}'"}},
      {"timestamp[]",
       F::kJson,
       Check::kArrayMicros,
       {"'{\"2020-01-01 10:00:00\",\"1969-12-31 23:59:59.5\",NULL}'"}},
      {"timestamptz[]",
       F::kJson,
       Check::kArrayMicros,
       {"'{\"2020-01-01 10:00:00+05:30\",\"1900-01-01 00:00:00+00:19:32\"}'"}},
      {"interval[]",
       F::kJson,
       Check::kArrayMicros,
       {"'{\"1 mon 2 days 03:04:05.5\",\"-1 year\",NULL}'"}},
      {"date[]", F::kJson, Check::kArrayDays, {"'{2020-01-01,NULL,1969-12-31}'"}},
      {"bytea[]", F::kJson, Check::kArrayBase64, {"ARRAY['\\x00ff'::bytea, NULL, '\\x']"}},
  };
}

// Our JSON array's elements as PostgreSQL's per-element reference has them (numbers for
// times and dates, base64 strings for bytes).
std::string ElementsForReference(Check check, const std::string& json) {
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  if (doc.error()) return "<unparsable: " + json + ">";
  simdjson::dom::array array;
  if (doc.value_unsafe().get(array)) return "<not an array: " + json + ">";
  std::string out = "[";
  for (auto element : array) {
    if (out.size() > 1) out += ", ";
    if (element.is_null()) {
      out += "null";
      continue;
    }
    std::string_view s = element.get_string().value_unsafe();
    if (check == Check::kArrayBase64) {
      out += "\"" + std::string(s) + "\"";
      continue;
    }
    Result<int64_t> v = check == Check::kArrayDays         ? ParseDate(s)
                        : s.find('P') != std::string::npos ? ParseDuration(s)
                                                           : ParseTimestamp(s);
    out += v.ok() ? std::to_string(*v) : "<" + std::string(s) + ">";
  }
  return out + "]";
}

TEST_F(PgTypesTest, EveryTypeAgainstPostgres) {
  Exec("CREATE TYPE mood AS ENUM ('sad', 'happy')");
  Exec("CREATE DOMAIN positive_int AS int CHECK (VALUE > 0)");
  // A base type in the string category, standing in for citext (an extension).
  Exec("CREATE TYPE citext_like");
  Exec(
      "CREATE FUNCTION citext_like_in(cstring) RETURNS citext_like AS 'textin' "
      "LANGUAGE internal IMMUTABLE STRICT");
  Exec(
      "CREATE FUNCTION citext_like_out(citext_like) RETURNS cstring AS 'textout' "
      "LANGUAGE internal IMMUTABLE STRICT");
  Exec(
      "CREATE TYPE citext_like (INPUT = citext_like_in, OUTPUT = citext_like_out, "
      "LIKE = text, CATEGORY = 'S')");

  const std::vector<TypeCase> cases = EveryType();
  std::string create = "CREATE TABLE every_type (id int PRIMARY KEY";
  size_t rows = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    create += ", c" + std::to_string(i) + " " + cases[i].sql_type;
    rows = std::max(rows, cases[i].values.size());
  }
  Exec(create + ")");
  for (size_t r = 0; r < rows; ++r) {
    std::string insert = "INSERT INTO every_type VALUES (" + std::to_string(r);
    for (const TypeCase& c : cases) {
      insert += ", " + (r < c.values.size() ? "(" + c.values[r] + ")::" + c.sql_type : "NULL");
    }
    Exec(insert + ")");
  }

  // Column types from the catalog, as the Relation message would carry them.
  const PgTypeCatalog catalog = ReadCatalog();
  std::vector<PgColumnType> types;
  for (auto& row : Query("SELECT atttypid, atttypmod FROM pg_attribute WHERE attrelid = "
                         "'every_type'::regclass AND attnum > 1 ORDER BY attnum")) {
    auto t = MapPgType(uint32_t(std::stoul(*row[0])), std::stoi(*row[1]), catalog);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    types.push_back(*t);
  }
  ASSERT_EQ(types.size(), cases.size());

  std::string select = "SELECT id";
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string c = "c" + std::to_string(i);
    select += ", " + c + ", " + Reference(cases[i].check, c);
  }
  auto result = Query(select + " FROM every_type ORDER BY id");
  ASSERT_EQ(result.size(), rows);
  int checked = 0;
  for (const auto& row : result) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const TypeCase& c = cases[i];
      SCOPED_TRACE(c.sql_type + " row " + *row[0]);
      EXPECT_EQ(types[i].field_type, c.field_type);
      EXPECT_EQ(types[i].kept_as_text, c.kept_as_text);
      const auto& text = row[1 + 2 * i];
      const auto& reference = row[2 + 2 * i];
      if (!text) continue;  // NULL: pgoutput says 'n', nothing to parse
      ASSERT_TRUE(reference.has_value()) << *text;
      auto parsed = ParsePgText(types[i], *text);
      ASSERT_TRUE(parsed.ok()) << *text << ": " << parsed.status().ToString();
      const Value& v = *parsed;
      const std::string& ref = *reference;
      switch (c.check) {
        case Check::kBool:
          EXPECT_EQ(v.as_bool() ? "true" : "false", ref);
          break;
        case Check::kInt:
          EXPECT_EQ(std::to_string(v.as_int()), ref);
          break;
        case Check::kDecimal:
          EXPECT_EQ(v.as_decimal().ToString(), ref);
          break;
        case Check::kFloat4Bits: {
          char b[16];
          snprintf(b, sizeof b, "%08x", std::bit_cast<uint32_t>(float(v.as_float())));
          EXPECT_EQ(std::isnan(v.as_float()) ? std::string("7fc00000") : std::string(b), ref)
              << *text;
          break;
        }
        case Check::kFloat8Bits: {
          char b[32];
          snprintf(b, sizeof b, "%016llx",
                   (unsigned long long)std::bit_cast<uint64_t>(v.as_float()));
          EXPECT_EQ(std::isnan(v.as_float()) ? std::string("7ff8000000000000") : std::string(b),
                    ref)
              << *text;
          break;
        }
        case Check::kString:
          EXPECT_EQ(v.as_string(), ref);
          break;
        case Check::kBytes:
          EXPECT_EQ(Hex(v.as_string()), ref);
          break;
        case Check::kEpochMicros:
        case Check::kDays:
          EXPECT_EQ(std::to_string(v.as_int()), ref) << *text;
          break;
        case Check::kArrayJsonb:
          EXPECT_EQ(AsJsonb(v.as_string()), ref) << *text << " -> " << v.as_string();
          break;
        case Check::kArrayMicros:
        case Check::kArrayDays:
        case Check::kArrayBase64:
          EXPECT_EQ(AsJsonb(ElementsForReference(c.check, v.as_string())), AsJsonb(ref))
              << *text << " -> " << v.as_string();
          break;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

TEST_F(PgTypesTest, ArrayJsonShapeAndEscapes) {
  // The exact text, beyond what jsonb equality shows: Sluice's jsonb separators, exact digits.
  auto ints = ParseAsPostgresWrites("'[0:1][1:2]={{1,NULL},{3,4}}'::int8[]");
  ASSERT_TRUE(ints.ok()) << ints.status().ToString();
  EXPECT_EQ(ints->as_string(), "[[1, null], [3, 4]]");
  auto big = ParseAsPostgresWrites("'{12345678901234567890123456789012345678,1.50,NaN}'::float8[]");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->as_string(), "[1.2345678901234568e+37, 1.5, \"NaN\"]");
  auto numbers =
      ParseAsPostgresWrites("'{12345678901234567890123456789012345678,1.50}'::numeric[]");
  ASSERT_TRUE(numbers.ok()) << numbers.status().ToString();
  EXPECT_EQ(numbers->as_string(), "[12345678901234567890123456789012345678, 1.50]");
  auto text = ParseAsPostgresWrites(
      "ARRAY['q\"uote', 'back\\slash', E'ctl\\x01', 'NULL', NULL, 'é']::text[]");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->as_string(),
            "[\"q\\\"uote\", \"back\\\\slash\", \"ctl\\u0001\", \"NULL\", null, \"é\"]");
  auto times =
      ParseAsPostgresWrites("(ARRAY['2020-01-01 10:00:00.25+01'::timestamptz, '-infinity'])[1:1]");
  ASSERT_TRUE(times.ok()) << times.status().ToString();
  EXPECT_EQ(times->as_string(), "[\"2020-01-01T09:00:00.25Z\"]");
  auto empty = ParseAsPostgresWrites("'{}'::text[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->as_string(), "[]");
}

// timestamptz text carries the reading session's offset; any offset must give the same instant.
TEST_F(PgTypesTest, TimestamptzOffsetsInEveryZone) {
  Exec("CREATE TABLE instants (id serial PRIMARY KEY, v timestamptz)");
  struct Insert {
    std::string zone, literal;
  };
  for (const Insert& i : std::vector<Insert>{{"Asia/Kolkata", "2020-06-01 12:00"},
                                             {"America/Los_Angeles", "2020-01-01 12:00"},
                                             {"Europe/Amsterdam", "1900-01-01 00:00"},
                                             {"Asia/Kathmandu", "2021-03-04 05:06:07.891"},
                                             {"America/St_Johns", "1999-12-31 23:59:59.999999"},
                                             {"UTC", "1000-01-01 00:00"},
                                             {"Pacific/Chatham", "2022-12-25 00:00"}}) {
    Exec("SET TimeZone = '" + i.zone + "'");
    Exec("INSERT INTO instants (v) VALUES ('" + i.literal + "')");
  }
  const PgColumnType type = Map(1184);
  std::set<std::string> offsets;
  for (std::string zone : {"UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam",
                           "Asia/Kathmandu", "Pacific/Chatham", "America/Los_Angeles"}) {
    Exec("SET TimeZone = '" + zone + "'");
    for (auto& row : Query("SELECT v, (extract(epoch FROM v) * 1000000)::bigint::text "
                           "FROM instants ORDER BY id")) {
      auto parsed = ParsePgText(type, *row[0]);
      ASSERT_TRUE(parsed.ok()) << zone << ": " << parsed.status().ToString();
      EXPECT_EQ(std::to_string(parsed->as_int()), *row[1]) << zone << ": " << *row[0];
      offsets.insert(row[0]->substr(row[0]->find_first_of("+-", 11)));
    }
  }
  // The forms the parser had to handle, as PostgreSQL wrote them.
  for (std::string expected :
       {"+00", "+05:30", "-03:30", "-02:30", "+00:19:32", "+05:45", "+13:45", "-08", "+01"}) {
    EXPECT_TRUE(offsets.count(expected)) << expected;
  }
}

// Values PostgreSQL holds that a Sluice field cannot: an OutOfRange error, never a guess.
TEST_F(PgTypesTest, ValuesSluiceCannotHoldAreOutOfRange) {
  struct Case {
    std::string sql, needle;
  };
  for (const Case& c : std::vector<Case>{
           {"1234567890123456789012345678901234567890::numeric", "38 significant digits"},
           {"-1234567890123456789012345678901234567890.5::numeric", "38 significant digits"},
           {"1e-39::numeric", "38 digits after the decimal point"},
           {"'NaN'::numeric", "no NaN or infinity"},
           {"'Infinity'::numeric", "no NaN or infinity"},
           {"'-Infinity'::numeric", "no NaN or infinity"},
           {"'infinity'::date", "finite"},
           {"'-infinity'::date", "finite"},
           {"'0044-03-15 BC'::date", "BC"},
           {"'10000-01-01'::date", "after 9999"},
           {"'infinity'::timestamp", "finite"},
           {"'0001-01-01 00:00 BC'::timestamp", "BC"},
           {"'294276-12-31 23:59:59.999999'::timestamp", "after 9999"},
           {"'-infinity'::timestamptz", "finite"},
           {"'10000-01-01 00:00+00'::timestamptz", "after 9999"},
           {"'178956970 years 7 mons'::interval", "292,000 years"},
           {"'-178956970 years'::interval", "292,000 years"},
           {"'2562047788:00:54.775807'::interval + '1 day'", "292,000 years"},
           {"'{1,NaN}'::numeric[]", "element PostgreSQL numeric 'NaN'"},
           {"'{2020-01-01,infinity}'::date[]", "element PostgreSQL date 'infinity'"},
       }) {
    auto r = ParseAsPostgresWrites(c.sql);
    ASSERT_FALSE(r.ok()) << c.sql << " -> " << r->DebugString();
    EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status().ToString() << "\n  expected to contain: " << c.needle;
  }
}

// A session without the settings the connector sets gives errors that say which to set.
TEST_F(PgTypesTest, OtherSessionSettingsAreNamedInErrors) {
  struct Case {
    std::string setting, sql, needle;
  };
  for (const Case& c : std::vector<Case>{
           {"DateStyle = 'German'", "date '2020-01-02'", "set DateStyle=ISO"},
           {"DateStyle = 'SQL, DMY'", "timestamp '2020-01-02 03:04'", "set DateStyle=ISO"},
           {"DateStyle = 'Postgres'", "timestamptz '2020-01-02 03:04+00'", "set DateStyle=ISO"},
           {"IntervalStyle = iso_8601", "interval '1 day 02:00'", "set IntervalStyle=postgres"},
           {"IntervalStyle = sql_standard", "interval '1 year 2 mons'",
            "set IntervalStyle=postgres"},
           {"bytea_output = escape", "'\\x41'::bytea", "set bytea_output=hex"},
       }) {
    Exec("SET " + c.setting);
    auto r = ParseAsPostgresWrites(c.sql);
    ASSERT_FALSE(r.ok()) << c.setting << ": " << r->DebugString();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().ToString();
    SetUp();  // a fresh session with the right settings
  }
}

}  // namespace
}  // namespace sluice
