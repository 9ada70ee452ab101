// Typed values from text (CSV fields, URL path ids, config values) and from JSON (JSON Lines,
// REST filters), and typed values to JSON. The rules of the REST contract live here:
// integers beyond +-2^53 and decimals as strings, timestamps RFC 3339 UTC, binary base64,
// json embedded, NULL as null.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "types/field_type.h"
#include "types/value.h"

namespace simdjson::dom {
class element;
}

namespace sluice {

// Parses `text` as a value of `type`. Never returns NULL: callers decide what empty means.
Result<Value> ParseValueText(FieldType type, std::string_view text);

// Converts a parsed JSON value; JSON null gives NULL. Strings are parsed with ParseValueText
// where the type has no JSON form of its own (timestamps, decimals given as strings, ...).
Result<Value> ValueFromJson(FieldType type, const simdjson::dom::element& json);

void AppendJsonValue(FieldType type, const Value& value, std::string* out);
void AppendJsonString(std::string_view s, std::string* out);

// The pieces AppendJsonValue is made of, for callers that hold raw field data (row_json.h).
// `type` selects the form: e.g. an int64 is a number, a date, a timestamp or a duration.
void AppendJsonInt64(FieldType type, int64_t v, std::string* out);
void AppendJsonUInt64(uint64_t v, std::string* out);
void AppendJsonDouble(double d, std::string* out);
void AppendJsonBytes(FieldType type, std::string_view bytes, std::string* out);
void AppendJsonPoint(const Point& p, std::string* out);

}  // namespace sluice
