// PostgreSQL's text output of a value (connectors/postgres/pg_types.h), as pgoutput and COPY
// send it, parsed into a Sluice value for every type family the connector maps: scalars,
// arrays (any dimensions, quoting, bounds), domains, enums and types kept as text.
//
// Input: a byte choosing the column type, then the value's text.
// Contracts: malformed text is InvalidArgument and unrepresentable values OutOfRange, with a
// bounded message (long text is shortened); a parsed value has the mapped field type, dates
// and timestamps lie within years 0001-9999, decimals hold at most 38 digits, arrays become
// valid JSON, and the value's JSON form is valid JSON that reads back as the same value.
#include <simdjson.h>

#include "connectors/postgres/pg_types.h"
#include "fuzz_support.h"
#include "types/time_util.h"
#include "types/value_text.h"

namespace sluice::fuzz::pg_text {
namespace {

constexpr uint32_t kEnum = 90001, kDomain = 90002, kEnumArray = 90003, kDomainArray = 90004;
constexpr uint32_t kOids[] = {16,   17,   18,   20,    21,      23,         25,          26,   114,
                              700,  701,  1042, 1043,  1082,    1083,       1114,        1184, 1186,
                              1266, 1700, 2950, 3802,  1000,    1001,       1005,        1007, 1016,
                              1009, 1021, 1022, 1182,  1115,    1185,       1187,        1231, 2951,
                              199,  3807, 600,  kEnum, kDomain, kEnumArray, kDomainArray};

constexpr int64_t kFirstDay = -719162;  // 0001-01-01
constexpr int64_t kLastDay = 2932896;   // 9999-12-31
constexpr int64_t kFirstMicros = -62135596800000000;
constexpr int64_t kLastMicros = 253402300799999999;

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  if (size == 0) return 0;
  static const PgTypeCatalog catalog = [] {
    PgTypeCatalog c;
    c.enums.insert(kEnum);
    c.domain_bases[kDomain] = 1700;
    c.array_elements[kEnumArray] = kEnum;
    c.array_elements[kDomainArray] = kDomain;
    return c;
  }();
  const uint32_t oid = kOids[data[0] % std::size(kOids)];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string ctx = "oid " + std::to_string(oid) + " text " + Printable(text);
  auto type = MapPgType(oid, -1, catalog);
  FUZZ_CHECK(type.ok(), ctx);
  auto value = ParsePgText(*type, text);
  if (!value.ok()) {
    const StatusCode code = value.status().code();
    FUZZ_CHECK(code == StatusCode::kInvalidArgument || code == StatusCode::kOutOfRange,
               Describe(value.status()) + " " + ctx);
    FUZZ_CHECK(value.status().message().size() < 2000, "unbounded message for " + ctx);
    return 0;
  }
  const FieldType ft = type->field_type;
  FUZZ_CHECK(!value->is_null() && ValueFits(ft, *value), ctx);
  if (ft == FieldType::kDate) {
    FUZZ_CHECK(value->as_int() >= kFirstDay && value->as_int() <= kLastDay,
               "date out of 0001-9999: " + std::to_string(value->as_int()) + " " + ctx);
  }
  if (ft == FieldType::kTimestamp) {
    FUZZ_CHECK(value->as_int() >= kFirstMicros && value->as_int() <= kLastMicros,
               "timestamp out of 0001-9999: " + std::to_string(value->as_int()) + " " + ctx);
  }
  if (ft == FieldType::kDecimal) {
    const Decimal& d = value->as_decimal();
    FUZZ_CHECK(d.scale() >= 0 && d.scale() <= Decimal::kMaxDigits, ctx);
    const __int128 c = d.coefficient();
    FUZZ_CHECK(DecimalDigits(c < 0 ? -(unsigned __int128)c : (unsigned __int128)c) <= 38, ctx);
  }
  // json/jsonb (and arrays of them) are PostgreSQL-validated text, passed through unchecked.
  const bool json_elements = oid == 114 || oid == 3802 || oid == 199 || oid == 3807;
  if (ft == FieldType::kJson && !json_elements) {
    // Numbers keep their exact digits (pg_types.h), so numeric elements beyond 64 bits are
    // valid JSON that 64-bit integer readers refuse (docs/fuzzing.md, notes).
    FUZZ_CHECK(IsValidJson(value->as_string(), /*allow_big_integers=*/true),
               "array JSON " + Printable(value->as_string()) + " " + ctx);
  }
  if (ft != FieldType::kJson) {
    std::string json;
    AppendJsonValue(ft, *value, &json);
    FUZZ_CHECK(IsValidJson(json), "JSON form " + Printable(json) + " " + ctx);
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element element;
    FUZZ_CHECK(parser.parse(padded).get(element) == simdjson::SUCCESS, ctx);
    auto back = ValueFromJson(ft, element);
    FUZZ_CHECK(back.ok() && SameValue(ft, *back, *value),
               "JSON form " + Printable(json) + " reads back as " +
                   (back.ok() ? back->DebugString() : Describe(back.status())) + ", not " +
                   value->DebugString() + " " + ctx);
  }
  return 0;
}

}  // namespace sluice::fuzz::pg_text
