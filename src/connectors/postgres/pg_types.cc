#include "connectors/postgres/pg_types.h"

#include <charconv>
#include <string>

#include "types/decimal.h"
#include "types/time_util.h"
#include "types/value_text.h"

namespace sluice {
namespace {

struct ScalarType {
  uint32_t oid;
  PgTextFormat format;
  FieldType field_type;
};

// Built-in oids are fixed in PostgreSQL's catalog (pg_type.dat) and never change.
constexpr ScalarType kScalars[] = {
    {16, PgTextFormat::kBool, FieldType::kBoolean},             // bool
    {17, PgTextFormat::kBytea, FieldType::kBinary},             // bytea
    {18, PgTextFormat::kText, FieldType::kString},              // "char"
    {19, PgTextFormat::kText, FieldType::kString},              // name
    {20, PgTextFormat::kInt, FieldType::kInt},                  // int8
    {21, PgTextFormat::kInt, FieldType::kInt},                  // int2
    {23, PgTextFormat::kInt, FieldType::kInt},                  // int4
    {25, PgTextFormat::kText, FieldType::kString},              // text
    {26, PgTextFormat::kInt, FieldType::kInt},                  // oid
    {114, PgTextFormat::kJson, FieldType::kJson},               // json
    {700, PgTextFormat::kFloat, FieldType::kFloat},             // float4
    {701, PgTextFormat::kFloat, FieldType::kFloat},             // float8
    {1042, PgTextFormat::kText, FieldType::kString},            // bpchar
    {1043, PgTextFormat::kText, FieldType::kString},            // varchar
    {1082, PgTextFormat::kDate, FieldType::kDate},              // date
    {1083, PgTextFormat::kText, FieldType::kString},            // time
    {1114, PgTextFormat::kTimestamp, FieldType::kTimestamp},    // timestamp
    {1184, PgTextFormat::kTimestampTz, FieldType::kTimestamp},  // timestamptz
    {1186, PgTextFormat::kInterval, FieldType::kDuration},      // interval
    {1266, PgTextFormat::kText, FieldType::kString},            // timetz
    {1700, PgTextFormat::kNumeric, FieldType::kDecimal},        // numeric
    {2950, PgTextFormat::kUuid, FieldType::kString},            // uuid
    {3802, PgTextFormat::kJson, FieldType::kJson},              // jsonb
};

// Built-in array type → element type (int2vector and oidvector are not arrays in text form).
constexpr std::pair<uint32_t, uint32_t> kArrays[] = {
    {1000, 16},   {1001, 17},   {1002, 18},   {1003, 19},   {1016, 20},   {1005, 21},
    {1007, 23},   {1009, 25},   {1028, 26},   {199, 114},   {1021, 700},  {1022, 701},
    {1014, 1042}, {1015, 1043}, {1182, 1082}, {1183, 1083}, {1115, 1114}, {1185, 1184},
    {1187, 1186}, {1270, 1266}, {1231, 1700}, {2951, 2950}, {3807, 3802},
};

// Domains over domains are legal but never this deep; more means the catalog is wrong.
constexpr int kMaxDomainDepth = 32;
// PostgreSQL's MAXDIM; also bounds the recursion on malformed input.
constexpr int kMaxArrayDimensions = 6;

Result<uint32_t> ResolveDomain(uint32_t oid, const PgTypeCatalog& catalog) {
  for (int depth = 0; depth < kMaxDomainDepth; ++depth) {
    auto it = catalog.domain_bases.find(oid);
    if (it == catalog.domain_bases.end()) return oid;
    oid = it->second;
  }
  return InvalidArgument("type oid " + std::to_string(oid) +
                         ": domains nest more than 32 deep (a cycle in the catalog?)");
}

// The scalar mapping of a non-array, non-domain oid; nullopt when Sluice does not know it.
std::optional<ScalarType> MapScalar(uint32_t oid, const PgTypeCatalog& catalog) {
  for (const ScalarType& s : kScalars) {
    if (s.oid == oid) return s;
  }
  if (catalog.enums.count(oid) || catalog.strings.count(oid)) {
    return ScalarType{oid, PgTextFormat::kText, FieldType::kString};
  }
  return std::nullopt;
}

std::optional<uint32_t> ArrayElement(uint32_t oid, const PgTypeCatalog& catalog) {
  for (const auto& [array, element] : kArrays) {
    if (array == oid) return element;
  }
  auto it = catalog.array_elements.find(oid);
  if (it != catalog.array_elements.end()) return it->second;
  return std::nullopt;
}

// The text for an error message: quoted, and shortened so a huge value does not flood logs.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 80;
  if (text.size() <= kMax) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMax)) + "...' (" + std::to_string(text.size()) +
         " bytes)";
}

Status Malformed(std::string_view type, std::string_view text, std::string_view why) {
  return InvalidArgument("invalid PostgreSQL " + std::string(type) + " " + Quote(text) + ": " +
                         std::string(why));
}

Status Unrepresentable(std::string_view type, std::string_view text, std::string_view why) {
  return OutOfRange("PostgreSQL " + std::string(type) + " " + Quote(text) +
                    " cannot be stored in Sluice: " + std::string(why));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Sluice's own parser's result, with an error that names PostgreSQL's type (its message would
// repeat the whole text).
Result<Value> Named(std::string_view type, std::string_view text, std::string_view why,
                    Result<Value> parsed) {
  if (parsed.ok()) return parsed;
  return Malformed(type, text, why);
}

Result<Value> ParseNumeric(std::string_view text) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
    return Unrepresentable("numeric", text, "Sluice decimals have no NaN or infinity");
  }
  Result<Decimal> d = Decimal::Parse(text);
  if (!d.ok()) {
    return Unrepresentable("numeric", text,
                           "a Sluice decimal holds at most 38 significant digits, 38 after the "
                           "point, and is never rounded (" +
                               d.status().message() + ")");
  }
  return Value(*d);
}

Result<Value> ParseBytea(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') {
    return Malformed("bytea", text, "expected hex format \\x... (set bytea_output=hex)");
  }
  return Named("bytea", text, "expected an even number of hex digits after \\x",
               ParseValueText(FieldType::kBinary, text));
}

Result<Value> ParseUuid(std::string_view text) {
  std::string out(text);
  bool ok = out.size() == 36;
  for (size_t i = 0; ok && i < out.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ok = out[i] == '-';
    } else {
      ok = IsHex(out[i]);
      if (out[i] >= 'A' && out[i] <= 'F') out[i] = char(out[i] - 'A' + 'a');
    }
  }
  if (!ok) return Malformed("uuid", text, "expected 8-4-4-4-12 hex digits");
  return Value(std::move(out));
}

// Date and timestamp text PostgreSQL writes that RFC 3339 has no room for.
Status CheckCalendarRange(std::string_view type, std::string_view text) {
  if (text == "infinity" || text == "-infinity") {
    return Unrepresentable(type, text, "Sluice dates and timestamps are finite");
  }
  if (text.size() >= 3 && text.substr(text.size() - 3) == " BC") {
    return Unrepresentable(type, text, "years before 0001 (BC) are not supported");
  }
  size_t year_digits = 0;
  while (year_digits < text.size() && IsDigit(text[year_digits])) ++year_digits;
  if (year_digits > 4) {
    return Unrepresentable(type, text, "years after 9999 are not supported");
  }
  return Status::OK();
}

Result<Value> ParseDateText(std::string_view text) {
  RETURN_IF_ERROR(CheckCalendarRange("date", text));
  Result<int64_t> days = ParseDate(text);
  if (!days.ok()) return Malformed("date", text, "expected YYYY-MM-DD (set DateStyle=ISO)");
  return Value(*days);
}

// "+05:30", "-08", "+00:19:32" → seconds east of UTC; false when malformed.
bool ParseUtcOffset(std::string_view text, int64_t& seconds) {
  if (text.empty() || (text[0] != '+' && text[0] != '-')) return false;
  const bool negative = text[0] == '-';
  int64_t parts[3] = {0, 0, 0};
  size_t pos = 1;
  for (int i = 0; i < 3 && pos < text.size(); ++i) {
    if (i > 0 && text[pos++] != ':') return false;
    if (pos + 2 > text.size() || !IsDigit(text[pos]) || !IsDigit(text[pos + 1])) return false;
    parts[i] = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
    pos += 2;
  }
  if (pos != text.size() || parts[1] > 59 || parts[2] > 59) return false;
  seconds = parts[0] * 3600 + parts[1] * 60 + parts[2];
  if (negative) seconds = -seconds;
  return true;
}

Result<Value> ParseTimestampText(std::string_view text, bool with_zone) {
  const std::string_view type = with_zone ? "timestamptz" : "timestamp";
  RETURN_IF_ERROR(CheckCalendarRange(type, text));
  std::string_view local = text;
  int64_t offset_seconds = 0;
  if (with_zone) {
    // The offset follows the time: the first sign after the space between date and time.
    size_t space = text.find(' ');
    size_t sign = space == std::string_view::npos ? space : text.find_first_of("+-", space);
    if (sign == std::string_view::npos || !ParseUtcOffset(text.substr(sign), offset_seconds)) {
      return Malformed(type, text,
                       "expected YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM[:SS]] (set DateStyle=ISO)");
    }
    local = text.substr(0, sign);
  }
  // PostgreSQL writes "YYYY-MM-DD HH:MM:SS[.ffffff]"; ParseTimestamp also takes a trailing
  // zone, which must not be accepted here.
  if (local.size() < 19 || local[10] != ' ' ||
      local.find_first_of("+-Zz", 11) != std::string_view::npos) {
    return Malformed(type, text, "expected YYYY-MM-DD HH:MM:SS[.ffffff] (set DateStyle=ISO)");
  }
  Result<int64_t> micros = ParseTimestamp(local);
  if (!micros.ok()) {
    return Malformed(type, text, "expected YYYY-MM-DD HH:MM:SS[.ffffff] (set DateStyle=ISO)");
  }
  return Value(*micros - offset_seconds * kMicrosPerSecond);
}

// "[+-]H+:MM:SS[.ffffff]" → microseconds; false when malformed.
bool ParseIntervalTime(std::string_view t, __int128& micros) {
  bool negative = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  size_t colon = t.find(':');
  if (colon == std::string_view::npos || colon > 18 || !IsDigit(t[0])) return false;
  int64_t hours = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + colon, hours);
  if (ec != std::errc() || p != t.data() + colon) return false;
  t.remove_prefix(colon + 1);
  if (t.size() < 5 || t[2] != ':' || !IsDigit(t[0]) || !IsDigit(t[1]) || !IsDigit(t[3]) ||
      !IsDigit(t[4])) {
    return false;
  }
  const int minutes = (t[0] - '0') * 10 + (t[1] - '0');
  const int seconds = (t[3] - '0') * 10 + (t[4] - '0');
  t.remove_prefix(5);
  int64_t fraction = 0;
  if (!t.empty()) {
    if (t[0] != '.' || t.size() < 2 || t.size() > 7) return false;
    for (size_t i = 1; i < 7; ++i) {
      if (i < t.size() && !IsDigit(t[i])) return false;
      fraction = fraction * 10 + (i < t.size() ? t[i] - '0' : 0);
    }
  }
  if (minutes > 59 || seconds > 59) return false;
  micros = (__int128(hours) * 3600 + minutes * 60 + seconds) * kMicrosPerSecond + fraction;
  if (negative) micros = -micros;
  return true;
}

// IntervalStyle=postgres: "1 year 2 mons -3 days +04:05:06.5", each part signed on its own.
Result<Value> ParseIntervalText(std::string_view text) {
  auto malformed = [&] {
    return Malformed("interval", text,
                     "expected e.g. '1 year 2 mons 3 days 04:05:06' (set IntervalStyle=postgres)");
  };
  // 128 bits: no sum of 64-bit parts can overflow, so a garbage input cannot be undefined.
  __int128 months = 0, days = 0, time_micros = 0;
  bool any = false, seen_time = false;
  std::string_view rest = text;
  auto next_token = [&] {
    size_t space = rest.find(' ');
    std::string_view token = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    return token;
  };
  while (!rest.empty()) {
    std::string_view token = next_token();
    if (token.find(':') != std::string_view::npos) {
      if (seen_time || !ParseIntervalTime(token, time_micros)) return malformed();
      seen_time = any = true;
      continue;
    }
    if (!token.empty() && token[0] == '+') token.remove_prefix(1);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
    if (token.empty() || ec != std::errc() || p != token.data() + token.size()) {
      return malformed();
    }
    std::string_view unit = next_token();
    if (unit == "year" || unit == "years") {
      months += __int128(n) * 12;
    } else if (unit == "mon" || unit == "mons") {
      months += n;
    } else if (unit == "day" || unit == "days") {
      days += n;
    } else {
      return malformed();
    }
    any = true;
  }
  if (!any) return malformed();
  // extract(epoch from interval): 365.25 days per whole year, 30 per remaining month.
  // C++ division truncates toward zero like PostgreSQL's, so signs match too.
  const __int128 seconds = months / 12 * 31'557'600 + months % 12 * 30 * 86'400 + days * 86'400;
  const __int128 micros = seconds * kMicrosPerSecond + time_micros;
  if (micros > INT64_MAX || micros < INT64_MIN) {
    return Unrepresentable("interval", text, "beyond the ±292,000 years a duration holds");
  }
  return Value(int64_t(micros));
}

Result<Value> ParseScalar(PgTextFormat format, std::string_view text);

// Writes one parsed array element as JSON (see pg_types.h for the forms).
void AppendElementJson(FieldType type, const Value& value, std::string* out) {
  if (value.is_null()) {
    out->append("null");
  } else if (type == FieldType::kInt) {
    out->append(std::to_string(value.as_int()));  // exact even beyond 2^53, as PostgreSQL
  } else if (type == FieldType::kDecimal) {
    out->append(value.as_decimal().ToString());
  } else {
    AppendJsonValue(type, value, out);
  }
}

// Reads PostgreSQL's array text (array_out) and writes it as a JSON array.
class ArrayToJson {
 public:
  ArrayToJson(const PgColumnType& type, std::string_view text) : type_(type), text_(text) {}

  Result<std::string> Convert() {
    // Bounds other than 1 come first: "[0:2]={...}" or "[1:2][0:1]={{...}}".
    if (!text_.empty() && text_[0] == '[') {
      size_t eq = text_.find('=');
      if (eq == std::string_view::npos) return Error("dimension bounds without '='");
      pos_ = eq + 1;
    }
    RETURN_IF_ERROR(Level(1));
    if (pos_ != text_.size()) return Error("unexpected text after the closing '}'");
    return std::move(out_);
  }

 private:
  Status Error(std::string_view why) const {
    return Malformed("array", text_, "at byte " + std::to_string(pos_) + ": " + std::string(why));
  }

  Status Level(int depth) {
    if (depth > kMaxArrayDimensions) return Error("more than 6 dimensions");
    if (pos_ >= text_.size() || text_[pos_] != '{') return Error("expected '{'");
    ++pos_;
    out_.push_back('[');
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      out_.push_back(']');
      return Status::OK();
    }
    for (bool first = true;; first = false) {
      if (!first) out_.append(", ");
      if (pos_ < text_.size() && text_[pos_] == '{') {
        RETURN_IF_ERROR(Level(depth + 1));
      } else {
        RETURN_IF_ERROR(Element());
      }
      if (pos_ >= text_.size()) return Error("unterminated array");
      const char c = text_[pos_++];
      if (c == '}') break;
      if (c != ',') return Error(std::string("expected ',' or '}', found '") + c + "'");
    }
    out_.push_back(']');
    return Status::OK();
  }

  Status Element() {
    std::string element;
    bool quoted = false;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      quoted = true;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return Error("unterminated quoted element");
        char c = text_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ >= text_.size()) return Error("backslash at the end");
          c = text_[pos_++];
        }
        element.push_back(c);
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}') {
        char c = text_[pos_++];
        if (c == '{' || c == '"') return Error(std::string("unexpected '") + c + "'");
        if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
        element.push_back(c);
      }
      if (element.empty()) return Error("empty element");
    }
    if (!quoted && element.size() == 4 && (element[0] | 0x20) == 'n' &&
        (element[1] | 0x20) == 'u' && (element[2] | 0x20) == 'l' && (element[3] | 0x20) == 'l') {
      out_.append("null");
      return Status::OK();
    }
    Result<Value> value = ParseScalar(type_.element_format, element);
    if (!value.ok()) {
      return Status(value.status().code(),
                    "array " + Quote(text_) + ": element " + value.status().message());
    }
    AppendElementJson(type_.element_field_type, *value, &out_);
    return Status::OK();
  }

  const PgColumnType& type_;
  std::string_view text_;
  size_t pos_ = 0;
  std::string out_;
};

Result<Value> ParseScalar(PgTextFormat format, std::string_view text) {
  switch (format) {
    case PgTextFormat::kBool:
      if (text == "t") return Value(true);
      if (text == "f") return Value(false);
      return Malformed("boolean", text, "expected t or f");
    case PgTextFormat::kInt:
      return Named("integer", text, "expected a 64-bit integer",
                   ParseValueText(FieldType::kInt, text));
    case PgTextFormat::kNumeric:
      return ParseNumeric(text);
    case PgTextFormat::kFloat:
      return Named("float", text, "expected a number, NaN or [-]Infinity",
                   ParseValueText(FieldType::kFloat, text));
    case PgTextFormat::kText:
    case PgTextFormat::kJson:  // validated by PostgreSQL on input
      return Value(text);
    case PgTextFormat::kBytea:
      return ParseBytea(text);
    case PgTextFormat::kUuid:
      return ParseUuid(text);
    case PgTextFormat::kDate:
      return ParseDateText(text);
    case PgTextFormat::kTimestamp:
      return ParseTimestampText(text, false);
    case PgTextFormat::kTimestampTz:
      return ParseTimestampText(text, true);
    case PgTextFormat::kInterval:
      return ParseIntervalText(text);
    case PgTextFormat::kArray:
      break;
  }
  return Internal("array format used for a scalar");
}

}  // namespace

Result<PgColumnType> MapPgType(uint32_t type_oid, int32_t typmod, const PgTypeCatalog& catalog) {
  PgColumnType column;
  column.type_oid = type_oid;
  column.typmod = typmod;
  ASSIGN_OR_RETURN(uint32_t base, ResolveDomain(type_oid, catalog));
  if (std::optional<uint32_t> element = ArrayElement(base, catalog)) {
    ASSIGN_OR_RETURN(uint32_t element_base, ResolveDomain(*element, catalog));
    if (std::optional<ScalarType> scalar = MapScalar(element_base, catalog)) {
      column.field_type = FieldType::kJson;
      column.format = PgTextFormat::kArray;
      column.element_format = scalar->format;
      column.element_field_type = scalar->field_type;
      return column;
    }
  } else if (std::optional<ScalarType> scalar = MapScalar(base, catalog)) {
    column.field_type = scalar->field_type;
    column.format = scalar->format;
    return column;
  }
  column.kept_as_text = true;
  return column;
}

Result<Value> ParsePgText(const PgColumnType& type, std::string_view text) {
  if (type.format == PgTextFormat::kArray) {
    ASSIGN_OR_RETURN(std::string json, ArrayToJson(type, text).Convert());
    return Value(std::move(json));
  }
  return ParseScalar(type.format, text);
}

}  // namespace sluice
