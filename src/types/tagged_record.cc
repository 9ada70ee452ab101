#include "types/tagged_record.h"

#include <cstring>

#include "types/row_codec.h"
#include "types/varint.h"

namespace sluice {
namespace {

enum Tag : uint8_t { kNull, kFalse, kTrue, kInt, kUInt, kFloat, kDecimal, kString, kPoint };

void AppendDouble(double d, std::string* out) {
  char bytes[8];
  std::memcpy(bytes, &d, 8);
  out->append(bytes, 8);
}

struct Encoder {
  std::string* out;
  void operator()(std::monostate) const { out->push_back(char(kNull)); }
  void operator()(bool b) const { out->push_back(char(b ? kTrue : kFalse)); }
  void operator()(int64_t i) const {
    out->push_back(char(kInt));
    AppendVarint(ZigZag(i), out);
  }
  void operator()(uint64_t u) const {
    out->push_back(char(kUInt));
    AppendVarint(u, out);
  }
  void operator()(double d) const {
    out->push_back(char(kFloat));
    AppendDouble(d, out);
  }
  void operator()(const Decimal& d) const {
    out->push_back(char(kDecimal));
    AppendVarint(uint64_t(d.scale()), out);
    AppendVarint128(ZigZag128(d.coefficient()), out);
  }
  void operator()(const std::string& s) const {
    out->push_back(char(kString));
    AppendVarint(s.size(), out);
    out->append(s);
  }
  void operator()(const Point& p) const {
    out->push_back(char(kPoint));
    AppendDouble(p.x, out);
    AppendDouble(p.y, out);
  }
};

std::optional<double> ReadDouble(VarintReader& in) {
  auto bytes = in.Bytes(8);
  if (!bytes) return std::nullopt;
  double d;
  std::memcpy(&d, bytes->data(), 8);
  return d;
}

}  // namespace

void EncodeTaggedRecord(const Record& record, std::string* out) {
  AppendVarint(record.size(), out);
  for (const Value& v : record) v.Visit(Encoder{out});
}

Result<Record> DecodeTaggedRecord(std::string_view bytes) {
  const auto malformed = [] { return DataLoss("malformed stored operator row"); };
  VarintReader in(bytes);
  auto count = in.Varint();
  if (!count || *count > bytes.size()) return malformed();
  Record record;
  record.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    auto tag = in.Bytes(1);
    if (!tag) return malformed();
    switch (uint8_t((*tag)[0])) {
      case kNull:
        record.emplace_back();
        break;
      case kFalse:
      case kTrue:
        record.emplace_back(uint8_t((*tag)[0]) == kTrue);
        break;
      case kInt: {
        auto v = in.Varint();
        if (!v) return malformed();
        record.emplace_back(UnZigZag(*v));
        break;
      }
      case kUInt: {
        auto v = in.Varint();
        if (!v) return malformed();
        record.emplace_back(*v);
        break;
      }
      case kFloat: {
        auto d = ReadDouble(in);
        if (!d) return malformed();
        record.emplace_back(*d);
        break;
      }
      case kDecimal: {
        auto scale = in.Varint();
        auto coefficient = in.Varint128();
        if (!scale || !coefficient || *scale > 2 * Decimal::kMaxDigits) return malformed();
        const __int128 c = UnZigZag128(*coefficient);
        if (c > kMaxStoredCoefficient || c < -kMaxStoredCoefficient) return malformed();
        record.emplace_back(Decimal(c, int(*scale)));
        break;
      }
      case kString: {
        auto size = in.Varint();
        auto s = size ? in.Bytes(*size) : std::nullopt;
        if (!s) return malformed();
        record.emplace_back(*s);
        break;
      }
      case kPoint: {
        auto x = ReadDouble(in);
        auto y = ReadDouble(in);
        if (!x || !y) return malformed();
        record.emplace_back(Point{*x, *y});
        break;
      }
      default:
        return malformed();
    }
  }
  if (!in.done()) return malformed();
  return record;
}

}  // namespace sluice
