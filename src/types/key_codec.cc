#include "types/key_codec.h"

#include <cmath>
#include <cstring>

namespace sluice {
namespace {

constexpr char kValueTag = 0x01;
constexpr char kNullTag = 0x02;  // after every value: NULLs sort last

void AppendBigEndian(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(char(uint8_t(v >> shift)));
}

uint64_t ReadBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

uint64_t EncodeDouble(double d) {
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
  if (d == 0) d = 0.0;  // -0 == 0
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return (bits & (uint64_t(1) << 63)) ? ~bits : bits ^ (uint64_t(1) << 63);
}

double DecodeDouble(uint64_t enc) {
  uint64_t bits = (enc & (uint64_t(1) << 63)) ? enc ^ (uint64_t(1) << 63) : ~enc;
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

void AppendEscapedBytes(std::string_view s, std::string* out) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back(char(0xFF));
  }
  out->push_back('\0');
  out->push_back(char(0x01));
}

// Decimal: sign class, then for non-zero values the adjusted exponent and the digits
// (1..10, terminated by 0); negative values invert those bytes so larger magnitudes sort first.
void AppendDecimal(const Decimal& value, std::string* out) {
  Decimal d = value.Normalized();
  __int128 c = d.coefficient();
  if (c == 0) {
    out->push_back(char(0x01));
    return;
  }
  bool negative = c < 0;
  // Negated unsigned: -c overflows for c = -2^127 (a corrupt stored row, found by tests/fuzz).
  unsigned __int128 mag =
      negative ? static_cast<unsigned __int128>(0) - static_cast<unsigned __int128>(c)
               : static_cast<unsigned __int128>(c);
  std::string digits;
  while (mag != 0) {
    digits.insert(digits.begin(), char(1 + int(mag % 10)));
    mag /= 10;
  }
  int exponent = int(digits.size()) - d.scale();  // value = 0.d1d2... * 10^exponent
  std::string body;
  body.push_back(char(uint8_t(exponent + 128)));
  body += digits;
  body.push_back('\0');
  out->push_back(negative ? char(0x00) : char(0x02));
  for (char b : body) out->push_back(negative ? char(~uint8_t(b)) : b);
}

}  // namespace

void EncodeKeyValue(FieldType type, const Value& value, std::string* out) {
  if (value.is_null()) {
    out->push_back(kNullTag);
    return;
  }
  out->push_back(kValueTag);
  switch (type) {
    case FieldType::kBoolean:
      out->push_back(value.as_bool() ? 1 : 0);
      return;
    case FieldType::kInt:
    case FieldType::kDate:
    case FieldType::kTimestamp:
    case FieldType::kDuration:
      AppendBigEndian(uint64_t(value.as_int()) ^ (uint64_t(1) << 63), out);
      return;
    case FieldType::kUInt:
      AppendBigEndian(value.as_uint(), out);
      return;
    case FieldType::kFloat:
      AppendBigEndian(EncodeDouble(value.as_float()), out);
      return;
    case FieldType::kDecimal:
      AppendDecimal(value.as_decimal(), out);
      return;
    case FieldType::kString:
    case FieldType::kText:
    case FieldType::kBinary:
    case FieldType::kJson:
      AppendEscapedBytes(value.as_string(), out);
      return;
    case FieldType::kPoint:
      AppendBigEndian(EncodeDouble(value.as_point().x), out);
      AppendBigEndian(EncodeDouble(value.as_point().y), out);
      return;
  }
}

void EncodeKey(const Schema& schema, const Record& record, const std::vector<size_t>& columns,
               std::string* out) {
  for (size_t c : columns) EncodeKeyValue(schema.fields[c].type, record[c], out);
}

Result<Record> DecodeKey(const std::vector<FieldType>& types, std::string_view key) {
  Record out;
  size_t pos = 0;
  auto bad = [] { return DataLoss("malformed key"); };
  for (FieldType type : types) {
    if (pos >= key.size()) return bad();
    char tag = key[pos++];
    if (tag == kNullTag) {
      out.emplace_back();
      continue;
    }
    if (tag != kValueTag) return bad();
    switch (type) {
      case FieldType::kBoolean:
        if (pos >= key.size()) return bad();
        out.emplace_back(key[pos++] != 0);
        break;
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kTimestamp:
      case FieldType::kDuration:
        if (pos + 8 > key.size()) return bad();
        out.emplace_back(int64_t(ReadBigEndian(key.data() + pos) ^ (uint64_t(1) << 63)));
        pos += 8;
        break;
      case FieldType::kUInt:
        if (pos + 8 > key.size()) return bad();
        out.emplace_back(ReadBigEndian(key.data() + pos));
        pos += 8;
        break;
      case FieldType::kFloat:
        if (pos + 8 > key.size()) return bad();
        out.emplace_back(DecodeDouble(ReadBigEndian(key.data() + pos)));
        pos += 8;
        break;
      case FieldType::kPoint: {
        if (pos + 16 > key.size()) return bad();
        Point p{DecodeDouble(ReadBigEndian(key.data() + pos)),
                DecodeDouble(ReadBigEndian(key.data() + pos + 8))};
        out.emplace_back(p);
        pos += 16;
        break;
      }
      case FieldType::kString:
      case FieldType::kText:
      case FieldType::kBinary:
      case FieldType::kJson: {
        std::string s;
        while (true) {
          if (pos + 1 >= key.size() + 1) return bad();
          char c = key[pos++];
          if (c != '\0') {
            s.push_back(c);
            continue;
          }
          if (pos >= key.size()) return bad();
          char next = key[pos++];
          if (next == char(0x01)) break;
          if (next != char(0xFF)) return bad();
          s.push_back('\0');
        }
        out.emplace_back(std::move(s));
        break;
      }
      case FieldType::kDecimal: {
        if (pos >= key.size()) return bad();
        char sign = key[pos++];
        if (sign == 0x01) {
          out.emplace_back(Decimal(0, 0));
          break;
        }
        bool negative = sign == 0x00;
        auto byte = [&](size_t at) {
          return negative ? uint8_t(~uint8_t(key[at])) : uint8_t(key[at]);
        };
        if (pos >= key.size()) return bad();
        int exponent = int(byte(pos++)) - 128;
        __int128 coefficient = 0;
        int ndigits = 0;
        while (true) {
          if (pos >= key.size()) return bad();
          uint8_t d = byte(pos++);
          if (d == 0) break;
          if (d > 10 || ndigits == Decimal::kMaxDigits) return bad();
          coefficient = coefficient * 10 + (d - 1);
          ++ndigits;
        }
        int scale = ndigits - exponent;
        // Padding to a whole number must stay within 38 digits (a malformed key overflowed).
        if (ndigits - scale > Decimal::kMaxDigits) return bad();
        while (scale < 0) {
          coefficient *= 10;
          ++scale;
        }
        out.emplace_back(Decimal(negative ? -coefficient : coefficient, scale));
        break;
      }
    }
  }
  if (pos != key.size()) return bad();
  return out;
}

}  // namespace sluice
