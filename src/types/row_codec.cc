#include "types/row_codec.h"

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

namespace {

struct RecordBuilder {
  Record record;
  void Null(size_t) { record.emplace_back(); }
  void Bool(size_t, bool b) { record.emplace_back(b); }
  void Int(size_t, int64_t v) { record.emplace_back(v); }
  void UInt(size_t, uint64_t v) { record.emplace_back(v); }
  void Float(size_t, double v) { record.emplace_back(v); }
  void Decimal(size_t, const sluice::Decimal& d) { record.emplace_back(d); }
  void Bytes(size_t, std::string_view s) { record.emplace_back(s); }
  void Point(size_t, const sluice::Point& p) { record.emplace_back(p); }
};

}  // namespace

Result<Record> DecodeRow(const Schema& schema, std::string_view bytes) {
  RecordBuilder builder;
  builder.record.reserve(schema.fields.size());
  RETURN_IF_ERROR(VisitRow(schema, bytes, builder));
  return std::move(builder.record);
}

}  // namespace sluice
