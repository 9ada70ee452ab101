#include "types/value_text.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "types/base64.h"
#include "types/time_util.h"
#include "types/utf8.h"

namespace sluice {
namespace {

Status TypeError(FieldType type, std::string_view text, std::string_view why = "") {
  std::string msg = "invalid " + std::string(FieldTypeName(type)) + " '" + std::string(text) + "'";
  if (!why.empty()) msg += " (" + std::string(why) + ")";
  return InvalidArgument(std::move(msg));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

Result<Value> ParseFloat(std::string_view text) {
  if (EqualsIgnoreCase(text, "nan")) return Value(std::numeric_limits<double>::quiet_NaN());
  if (EqualsIgnoreCase(text, "infinity") || EqualsIgnoreCase(text, "inf")) {
    return Value(std::numeric_limits<double>::infinity());
  }
  if (EqualsIgnoreCase(text, "-infinity") || EqualsIgnoreCase(text, "-inf")) {
    return Value(-std::numeric_limits<double>::infinity());
  }
  std::string_view t = text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  double d;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (ec == std::errc::result_out_of_range)
    return TypeError(FieldType::kFloat, text, "out of range");
  if (ec != std::errc() || ptr != t.data() + t.size()) return TypeError(FieldType::kFloat, text);
  return Value(d);
}

Result<Value> ParsePoint(std::string_view text) {
  std::string_view t = text;
  if (t.size() >= 2 && t.front() == '(' && t.back() == ')') t = t.substr(1, t.size() - 2);
  size_t comma = t.find(',');
  if (comma == std::string_view::npos) return TypeError(FieldType::kPoint, text, "expected (x,y)");
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  auto x = ParseFloat(trim(t.substr(0, comma)));
  auto y = ParseFloat(trim(t.substr(comma + 1)));
  if (!x.ok() || !y.ok()) return TypeError(FieldType::kPoint, text, "expected (x,y)");
  return Value(Point{x->as_float(), y->as_float()});
}

Result<Value> ParseBinary(std::string_view text) {
  if (text.size() >= 2 && text[0] == '\\' && (text[1] == 'x' || text[1] == 'X')) {
    std::string_view hex = text.substr(2);
    if (hex.size() % 2 != 0) return TypeError(FieldType::kBinary, text, "odd number of hex digits");
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
      unsigned byte;
      auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, byte, 16);
      if (ec != std::errc() || p != hex.data() + i + 2) return TypeError(FieldType::kBinary, text);
      out.push_back(char(byte));
    }
    return Value(std::move(out));
  }
  auto decoded = DecodeBase64(text);
  if (!decoded) return TypeError(FieldType::kBinary, text, "expected base64 or \\x hex");
  return Value(std::move(*decoded));
}

thread_local simdjson::dom::parser tls_json_parser;

Result<Value> ParseJsonText(std::string_view text) {
  simdjson::padded_string padded(text);
  auto doc = tls_json_parser.parse(padded);
  if (doc.error()) {
    return InvalidArgument("invalid json: " + std::string(simdjson::error_message(doc.error())));
  }
  return Value(std::string(text));
}

}  // namespace

Result<Value> ParseValueText(FieldType type, std::string_view text) {
  switch (type) {
    case FieldType::kBoolean: {
      for (auto t : {"true", "t", "yes", "y", "on", "1"}) {
        if (EqualsIgnoreCase(text, t)) return Value(true);
      }
      for (auto f : {"false", "f", "no", "n", "off", "0"}) {
        if (EqualsIgnoreCase(text, f)) return Value(false);
      }
      return TypeError(type, text, "expected true or false");
    }
    case FieldType::kInt: {
      std::string_view t = text;
      if (!t.empty() && t[0] == '+') t.remove_prefix(1);
      int64_t v;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc::result_out_of_range) return TypeError(type, text, "out of range");
      if (ec != std::errc() || ptr != t.data() + t.size()) return TypeError(type, text);
      return Value(v);
    }
    case FieldType::kUInt: {
      std::string_view t = text;
      if (!t.empty() && t[0] == '+') t.remove_prefix(1);
      uint64_t v;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc::result_out_of_range) return TypeError(type, text, "out of range");
      if (ec != std::errc() || ptr != t.data() + t.size()) return TypeError(type, text);
      return Value(v);
    }
    case FieldType::kFloat:
      return ParseFloat(text);
    case FieldType::kDecimal: {
      auto d = Decimal::Parse(text);
      if (!d.ok()) return d.status();
      return Value(*d);
    }
    case FieldType::kString:
    case FieldType::kText:
      return Value(text);
    case FieldType::kBinary:
      return ParseBinary(text);
    case FieldType::kDate: {
      auto d = ParseDate(text);
      if (!d.ok()) return d.status();
      return Value(*d);
    }
    case FieldType::kTimestamp: {
      auto t = ParseTimestamp(text);
      if (!t.ok()) return t.status();
      return Value(*t);
    }
    case FieldType::kDuration: {
      auto d = ParseDuration(text);
      if (!d.ok()) return d.status();
      return Value(*d);
    }
    case FieldType::kJson:
      return ParseJsonText(text);
    case FieldType::kPoint:
      return ParsePoint(text);
  }
  return Internal("unknown field type");
}

Result<Value> ValueFromJson(FieldType type, const simdjson::dom::element& json) {
  using simdjson::dom::element_type;
  const element_type kind = json.type();
  if (kind == element_type::NULL_VALUE) return Value::Null();
  auto describe = [&] { return std::string(simdjson::minify(json)); };
  auto expected = [&](std::string_view what) {
    return InvalidArgument("expected " + std::string(what) + " for a " +
                           std::string(FieldTypeName(type)) + " field, got " + describe());
  };
  if (type == FieldType::kJson) return Value(std::string(simdjson::minify(json)));
  if (kind == element_type::STRING) {
    std::string_view s = json.get_string().value_unsafe();
    if (type == FieldType::kString || type == FieldType::kText) return Value(s);
    return ParseValueText(type, s);
  }
  switch (type) {
    case FieldType::kBoolean:
      if (kind == element_type::BOOL) return Value(json.get_bool().value_unsafe());
      return expected("true or false");
    case FieldType::kInt:
      if (kind == element_type::INT64) return Value(json.get_int64().value_unsafe());
      if (kind == element_type::UINT64) return expected("an integer within the int range");
      if (kind == element_type::DOUBLE) {
        double d = json.get_double().value_unsafe();
        if (std::floor(d) == d && std::fabs(d) < 9.2e18) return Value(int64_t(d));
      }
      return expected("an integer");
    case FieldType::kUInt:
      if (kind == element_type::UINT64) return Value(json.get_uint64().value_unsafe());
      if (kind == element_type::INT64) {
        int64_t v = json.get_int64().value_unsafe();
        if (v >= 0) return Value(uint64_t(v));
        return expected("a non-negative integer");
      }
      return expected("a non-negative integer");
    case FieldType::kFloat:
      if (kind == element_type::DOUBLE || kind == element_type::INT64 ||
          kind == element_type::UINT64) {
        return Value(json.get_double().value_unsafe());
      }
      return expected("a number");
    case FieldType::kDecimal:
      if (kind == element_type::INT64 || kind == element_type::UINT64 ||
          kind == element_type::DOUBLE) {
        return ParseValueText(type, describe());
      }
      return expected("a number or a decimal string");
    case FieldType::kPoint: {
      // A coordinate is a number, or (as points are written, like floats) "NaN", "Infinity"
      // or "-Infinity".
      auto coordinate = [](simdjson::simdjson_result<simdjson::dom::element> e) {
        std::optional<double> out;
        double d;
        std::string_view text;
        if (e.get_double().get(d) == simdjson::SUCCESS) {
          out = d;
        } else if (e.get_string().get(text) == simdjson::SUCCESS) {
          if (auto f = ParseFloat(text); f.ok()) out = f->as_float();
        }
        return out;
      };
      std::optional<double> x, y;
      if (kind == element_type::OBJECT) {
        x = coordinate(json["x"]);
        y = coordinate(json["y"]);
      } else if (kind == element_type::ARRAY && json.get_array().value_unsafe().size() == 2) {
        x = coordinate(json.at(0));
        y = coordinate(json.at(1));
      }
      if (x && y) return Value(Point{*x, *y});
      return expected("{\"x\": number, \"y\": number}");
    }
    case FieldType::kString:
    case FieldType::kText:
      return expected("a string");
    default:
      return expected("a string");
  }
}

namespace {

// Whether any of the 8 bytes in `w` needs a look: a control byte (below 0x20), '"' or '\\' to
// escape, or a non-ASCII byte to check as UTF-8. The usual "has a byte below n" bit trick, so
// ASCII text without such bytes is scanned a word at a time.
bool WordNeedsLook(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_byte_below = [](uint64_t x, uint64_t n) { return (x - n * kOnes) & ~x & kHigh; };
  return (w & kHigh) | has_byte_below(w, 0x20) | has_byte_below(w ^ ('"' * kOnes), 1) |
         has_byte_below(w ^ ('\\' * kOnes), 1);
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    uint64_t word;
    while (i + 8 <= s.size() && (std::memcpy(&word, s.data() + i, 8), !WordNeedsLook(word))) {
      i += 8;
    }
    if (i == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Well-formed UTF-8 passes as it is. Anything else (a CSV field, bytes quoted from a
      // request) would make the whole document unreadable to strict parsers: U+FFFD instead.
      if (const size_t n = Utf8SequenceLength(s.substr(i))) {
        i += n - 1;
        continue;
      }
      out->append(s.data() + run, i - run);
      out->append("\xEF\xBF\xBD");
      run = i + 1;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

namespace {
constexpr int64_t kMaxSafeJsonInt = (int64_t(1) << 53);
}  // namespace

void AppendJsonDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("\"NaN\"");
  } else if (std::isinf(d)) {
    out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    char* end = std::to_chars(buf, buf + sizeof buf, d).ptr;
    // The shortest form writes whole numbers from 2^63 up as long digit strings
    // ("18446744073709552000") that parsers reading integers into 64 bits refuse (simdjson,
    // so Sluice's own readers too): those get an exponent ("1.8446744073709552e+19").
    if (std::fabs(d) >= 0x1p63 &&
        std::find_if(buf, end, [](char c) { return c == '.' || c == 'e'; }) == end) {
      end = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr;
    }
    out->append(buf, size_t(end - buf));
  }
}

void AppendJsonInt64(FieldType type, int64_t v, std::string* out) {
  switch (type) {
    case FieldType::kDate:
      out->push_back('"');
      AppendDate(v, out);
      out->push_back('"');
      return;
    case FieldType::kTimestamp:
      out->push_back('"');
      AppendTimestamp(v, out);
      out->push_back('"');
      return;
    case FieldType::kDuration:
      out->push_back('"');
      AppendDuration(v, out);
      out->push_back('"');
      return;
    default: {
      char buf[32];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
      bool quote = v > kMaxSafeJsonInt || v < -kMaxSafeJsonInt;
      if (quote) out->push_back('"');
      out->append(buf, size_t(ptr - buf));
      if (quote) out->push_back('"');
    }
  }
}

void AppendJsonUInt64(uint64_t v, std::string* out) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  bool quote = v > uint64_t(kMaxSafeJsonInt);
  if (quote) out->push_back('"');
  out->append(buf, size_t(ptr - buf));
  if (quote) out->push_back('"');
}

void AppendJsonBytes(FieldType type, std::string_view bytes, std::string* out) {
  switch (type) {
    case FieldType::kBinary:
      out->push_back('"');
      AppendBase64(bytes, out);
      out->push_back('"');
      return;
    case FieldType::kJson:
      out->append(bytes);
      return;
    default:
      AppendJsonString(bytes, out);
  }
}

void AppendJsonPoint(const Point& p, std::string* out) {
  out->append("{\"x\":");
  AppendJsonDouble(p.x, out);
  out->append(",\"y\":");
  AppendJsonDouble(p.y, out);
  out->push_back('}');
}

void AppendJsonValue(FieldType type, const Value& value, std::string* out) {
  if (value.is_null()) {
    out->append("null");
    return;
  }
  switch (type) {
    case FieldType::kBoolean:
      out->append(value.as_bool() ? "true" : "false");
      return;
    case FieldType::kInt:
    case FieldType::kDate:
    case FieldType::kTimestamp:
    case FieldType::kDuration:
      AppendJsonInt64(type, value.as_int(), out);
      return;
    case FieldType::kUInt:
      AppendJsonUInt64(value.as_uint(), out);
      return;
    case FieldType::kFloat:
      AppendJsonDouble(value.as_float(), out);
      return;
    case FieldType::kDecimal:
      AppendJsonString(value.as_decimal().ToString(), out);
      return;
    case FieldType::kString:
    case FieldType::kText:
    case FieldType::kBinary:
    case FieldType::kJson:
      AppendJsonBytes(type, value.as_string(), out);
      return;
    case FieldType::kPoint:
      AppendJsonPoint(value.as_point(), out);
      return;
  }
}

}  // namespace sluice
