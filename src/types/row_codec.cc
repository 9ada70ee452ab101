#include "types/row_codec.h"

#include <cstring>

#include "types/varint.h"

namespace sluice {

void EncodeRow(const Schema& schema, const Record& record, std::string* out) {
  const size_t n = schema.fields.size();
  const size_t bitmap_at = out->size();
  out->append((n + 7) / 8, '\0');
  for (size_t i = 0; i < n; ++i) {
    const Value& v = record[i];
    if (v.is_null()) {
      (*out)[bitmap_at + i / 8] = char((*out)[bitmap_at + i / 8] | (1 << (i % 8)));
      continue;
    }
    switch (schema.fields[i].type) {
      case FieldType::kBoolean:
        out->push_back(v.as_bool() ? 1 : 0);
        break;
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kTimestamp:
      case FieldType::kDuration:
        AppendVarint(ZigZag(v.as_int()), out);
        break;
      case FieldType::kUInt:
        AppendVarint(v.as_uint(), out);
        break;
      case FieldType::kFloat: {
        double d = v.as_float();
        char buf[8];
        std::memcpy(buf, &d, 8);
        out->append(buf, 8);
        break;
      }
      case FieldType::kDecimal: {
        const Decimal& d = v.as_decimal();
        out->push_back(char(d.scale()));
        AppendVarint128(ZigZag128(d.coefficient()), out);
        break;
      }
      case FieldType::kString:
      case FieldType::kText:
      case FieldType::kBinary:
      case FieldType::kJson: {
        const std::string& s = v.as_string();
        AppendVarint(s.size(), out);
        out->append(s);
        break;
      }
      case FieldType::kPoint: {
        char buf[16];
        std::memcpy(buf, &v.as_point().x, 8);
        std::memcpy(buf + 8, &v.as_point().y, 8);
        out->append(buf, 16);
        break;
      }
    }
  }
}

Result<Record> DecodeRow(const Schema& schema, std::string_view bytes) {
  const size_t n = schema.fields.size();
  const size_t bitmap_len = (n + 7) / 8;
  auto corrupt = [&](size_t field) {
    return DataLoss("stored row is malformed at field '" + schema.fields[field].name + "'");
  };
  if (bytes.size() < bitmap_len) return DataLoss("stored row is shorter than its null bitmap");
  const char* bitmap = bytes.data();
  VarintReader in(bytes.substr(bitmap_len));
  Record record;
  record.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (bitmap[i / 8] & (1 << (i % 8))) {
      record.emplace_back();
      continue;
    }
    switch (schema.fields[i].type) {
      case FieldType::kBoolean: {
        auto b = in.Bytes(1);
        if (!b) return corrupt(i);
        record.emplace_back((*b)[0] != 0);
        break;
      }
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kTimestamp:
      case FieldType::kDuration: {
        auto u = in.Varint();
        if (!u) return corrupt(i);
        record.emplace_back(UnZigZag(*u));
        break;
      }
      case FieldType::kUInt: {
        auto u = in.Varint();
        if (!u) return corrupt(i);
        record.emplace_back(*u);
        break;
      }
      case FieldType::kFloat: {
        auto b = in.Bytes(8);
        if (!b) return corrupt(i);
        double d;
        std::memcpy(&d, b->data(), 8);
        record.emplace_back(d);
        break;
      }
      case FieldType::kDecimal: {
        auto scale = in.Bytes(1);
        auto c = scale ? in.Varint128() : std::nullopt;
        if (!c) return corrupt(i);
        record.emplace_back(Decimal(UnZigZag128(*c), uint8_t((*scale)[0])));
        break;
      }
      case FieldType::kString:
      case FieldType::kText:
      case FieldType::kBinary:
      case FieldType::kJson: {
        auto len = in.Varint();
        auto s = len ? in.Bytes(*len) : std::nullopt;
        if (!s) return corrupt(i);
        record.emplace_back(*s);
        break;
      }
      case FieldType::kPoint: {
        auto b = in.Bytes(16);
        if (!b) return corrupt(i);
        Point p;
        std::memcpy(&p.x, b->data(), 8);
        std::memcpy(&p.y, b->data() + 8, 8);
        record.emplace_back(p);
        break;
      }
    }
  }
  if (!in.done()) return DataLoss("stored row has trailing bytes");
  return record;
}

}  // namespace sluice
