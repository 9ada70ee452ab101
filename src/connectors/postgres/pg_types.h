// PostgreSQL column types as Sluice field types, and PostgreSQL's text output of a value as a
// Sluice Value. The connector maps each column once (from a Relation message or the catalog)
// and then parses every value pgoutput sends in text form.
//
// The text is read as a session with these settings writes it, so the connector must set them
// on its replication connection (the walsender formats values with its own settings, not the
// server's defaults): DateStyle=ISO, IntervalStyle=postgres, TimeZone=UTC, bytea_output=hex,
// extra_float_digits=3, client_encoding=UTF8. Offsets of timestamptz values are parsed whatever
// they are (+05:30, -08, the +00:19:32 of historic local mean time).
//
// Mapping and the choices behind it:
//   bool → boolean; int2, int4, int8, oid → int; float4, float8 → float (NaN and ±Infinity kept)
//   numeric → decimal. Sluice decimals hold 38 significant digits: a longer value, NaN or
//     ±Infinity is an OutOfRange error when parsed, never rounded.
//   text, varchar, bpchar (padding kept, as PostgreSQL sends it), name, "char", enums and the
//     catalog's other string types (citext) → string
//   bytea → binary; uuid → string (canonical lowercase)
//   date → date; timestamp → timestamp (read as UTC); timestamptz → timestamp (the instant)
//     Years must be 0001 to 9999 (RFC 3339, as Sluice writes timestamps): BC dates, later years
//     and 'infinity' / '-infinity' are OutOfRange errors rather than a sentinel a reader could
//     take for a real date.
//   time, timetz → string, PostgreSQL's text ("12:34:56.5+05:30")
//   interval → duration in microseconds, counted as extract(epoch from interval) does: a whole
//     year is 365.25 days, each remaining month 30 days, a day 24 hours. '1 mon' is therefore
//     2592000 s and '1 year' 31557600 s; the calendar meaning of months is lost.
//   json, jsonb → json, PostgreSQL's text unchanged (jsonb text is already in Sluice's jsonb
//     form; re-rendering through a double would turn 1.50 into 1.5 and lose long integers).
//   arrays of any type above → json: nested arrays for more dimensions, NULL elements as null,
//     numbers (int, numeric) written with their exact digits, floats as numbers or "NaN" /
//     "Infinity" strings, other elements in Sluice's JSON value form (timestamps RFC 3339,
//     durations ISO 8601, binary base64). Dimension bounds like [0:2]= are dropped, as
//     array_to_json does.
//   anything else (point, inet, ranges, arrays of those, ...) → string holding PostgreSQL's
//     text, with `kept_as_text` set so the connector can warn once at start-up.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/status.h"
#include "types/field_type.h"
#include "types/value.h"

namespace sluice {

// What the catalog says about types that are not built in. pgoutput's Relation message only
// carries type oids, so the connector fills this from pg_type at start-up (or when a Type
// message names a new oid).
struct PgTypeCatalog {
  std::unordered_set<uint32_t> enums;                     // typtype = 'e'
  std::unordered_set<uint32_t> strings;                   // other typcategory = 'S' types (citext)
  std::unordered_map<uint32_t, uint32_t> array_elements;  // array oid → typelem
  std::unordered_map<uint32_t, uint32_t> domain_bases;    // typtype = 'd': oid → typbasetype
};

// How a column's text is read; one value per PostgreSQL type family Sluice understands.
enum class PgTextFormat : uint8_t {
  kBool,
  kInt,
  kNumeric,
  kFloat,
  kText,  // taken as is: text types, enums, time, and unsupported types
  kBytea,
  kUuid,
  kDate,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kJson,
  kArray,
};

// A column's PostgreSQL type resolved for Sluice: what it is stored as and how to read it.
struct PgColumnType {
  uint32_t type_oid = 0;
  int32_t typmod = -1;
  FieldType field_type = FieldType::kString;
  PgTextFormat format = PgTextFormat::kText;
  // For arrays, how each element is read and typed (never kArray: PostgreSQL arrays of
  // arrays are multi-dimensional arrays of the element type).
  PgTextFormat element_format = PgTextFormat::kText;
  FieldType element_field_type = FieldType::kString;
  // Sluice does not understand the type and keeps PostgreSQL's text as a string.
  bool kept_as_text = false;
};

// Resolves domains to their base type first. Errors only for a catalog that cannot be right
// (a cycle of domains).
Result<PgColumnType> MapPgType(uint32_t type_oid, int32_t typmod,
                               const PgTypeCatalog& catalog = {});

// Parses one non-NULL value in the text output form of `type` (see the session settings
// above). Malformed text is InvalidArgument; well-formed values Sluice cannot hold (numeric
// beyond 38 digits or NaN, infinite or BC dates, intervals beyond ±292,000 years) are
// OutOfRange. Messages quote the text (shortened when long) and say why.
Result<Value> ParsePgText(const PgColumnType& type, std::string_view text);

}  // namespace sluice
