#include "server/grpc/record_wire.h"

#include <bit>
#include <cstring>

#include "types/row_codec.h"
#include "types/time_util.h"
#include "types/varint.h"

namespace sluice::grpc_api {
namespace {

namespace pb = google::protobuf;

void AppendFixed64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(char(uint8_t(v >> (8 * i))));
}

void AppendDoubleField(int field_number, double d, std::string* out) {
  AppendTag(field_number, WireType::kFixed64, out);
  AppendFixed64(std::bit_cast<uint64_t>(d), out);
}

// google.protobuf.Timestamp {int64 seconds = 1; int32 nanos = 2;}, nanos in [0, 1e9).
void AppendTimestampField(int field_number, int64_t micros, std::string* out) {
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t rest = micros % kMicrosPerSecond;
  if (rest < 0) --seconds, rest += kMicrosPerSecond;
  std::string body;
  if (seconds != 0) AppendVarintField(1, uint64_t(seconds), &body);
  if (rest != 0) AppendVarintField(2, uint64_t(rest * 1000), &body);
  AppendBytesField(field_number, body, out);
}

// The VisitRow visitor (row_codec.h) that writes each shown field as the record message does.
class RecordWriter {
 public:
  RecordWriter(const Schema& schema, std::string* out, const std::vector<bool>* shown)
      : schema_(schema), out_(out), shown_(shown) {}

  void Null(size_t) {}
  void Bool(size_t i, bool b) {
    if (Shown(i)) AppendVarintField(Number(i), b ? 1 : 0, out_);
  }
  void Int(size_t i, int64_t v) {
    if (!Shown(i)) return;
    switch (schema_.fields[i].type) {
      case FieldType::kDate: {
        scratch_.clear();
        AppendDate(v, &scratch_);
        AppendBytesField(Number(i), scratch_, out_);
        break;
      }
      case FieldType::kTimestamp:
        AppendTimestampField(Number(i), v, out_);
        break;
      default:  // int64 fields: two's complement as a 10-byte varint when negative
        AppendVarintField(Number(i), uint64_t(v), out_);
    }
  }
  void UInt(size_t i, uint64_t v) {
    if (Shown(i)) AppendVarintField(Number(i), v, out_);
  }
  void Float(size_t i, double d) {
    if (Shown(i)) AppendDoubleField(Number(i), d, out_);
  }
  void Decimal(size_t i, const sluice::Decimal& d) {
    if (Shown(i)) AppendBytesField(Number(i), d.ToString(), out_);
  }
  void Bytes(size_t i, std::string_view bytes) {
    if (Shown(i)) AppendBytesField(Number(i), bytes, out_);
  }
  void Point(size_t i, const sluice::Point& p) {
    if (!Shown(i)) return;
    scratch_.clear();
    AppendDoubleField(1, p.x, &scratch_);
    AppendDoubleField(2, p.y, &scratch_);
    AppendBytesField(Number(i), scratch_, out_);
  }

 private:
  static int Number(size_t i) { return int(i) + 1; }
  bool Shown(size_t i) const { return !shown_ || (*shown_)[i]; }
  const Schema& schema_;
  std::string* out_;
  const std::vector<bool>* shown_;
  std::string scratch_;
};

Status FieldError(const pb::FieldDescriptor* field, const Status& s) {
  return InvalidArgument(field->name() + ": " + s.message());
}

}  // namespace

void AppendTag(int field_number, WireType type, std::string* out) {
  AppendVarint((uint64_t(field_number) << 3) | uint64_t(type), out);
}

void AppendVarintField(int field_number, uint64_t value, std::string* out) {
  AppendTag(field_number, WireType::kVarint, out);
  AppendVarint(value, out);
}

void AppendBytesField(int field_number, std::string_view bytes, std::string* out) {
  AppendTag(field_number, WireType::kLengthDelimited, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

Status AppendRecordWire(const Schema& schema, std::string_view row, std::string* out,
                        const std::vector<bool>* shown) {
  RecordWriter writer(schema, out, shown);
  return VisitRow(schema, row, writer);
}

Result<Value> ValueFromMessageField(const pb::Message& message, const pb::FieldDescriptor* field,
                                    FieldType type) {
  const pb::Reflection* r = message.GetReflection();
  if (field->has_presence() && !r->HasField(message, field)) return Value();
  switch (type) {
    case FieldType::kBoolean:
      return Value(r->GetBool(message, field));
    case FieldType::kInt:
    case FieldType::kDuration:
      return Value(int64_t(r->GetInt64(message, field)));
    case FieldType::kUInt:
      return Value(uint64_t(r->GetUInt64(message, field)));
    case FieldType::kFloat:
      return Value(r->GetDouble(message, field));
    case FieldType::kDecimal: {
      auto d = Decimal::Parse(r->GetString(message, field));
      if (!d.ok()) return FieldError(field, d.status());
      return Value(*d);
    }
    case FieldType::kString:
    case FieldType::kText:
    case FieldType::kBinary:
    case FieldType::kJson:
      return Value(r->GetString(message, field));
    case FieldType::kDate: {
      auto days = ParseDate(r->GetString(message, field));
      if (!days.ok()) return FieldError(field, days.status());
      return Value(int64_t(*days));
    }
    case FieldType::kTimestamp: {
      const pb::Message& ts = r->GetMessage(message, field);
      const pb::Descriptor* d = ts.GetDescriptor();
      int64_t seconds = ts.GetReflection()->GetInt64(ts, d->FindFieldByName("seconds"));
      int32_t nanos = ts.GetReflection()->GetInt32(ts, d->FindFieldByName("nanos"));
      int64_t micros;
      if (nanos < 0 || nanos >= 1'000'000'000 ||
          __builtin_mul_overflow(seconds, kMicrosPerSecond, &micros) ||
          __builtin_add_overflow(micros, int64_t(nanos / 1000), &micros)) {
        return InvalidArgument(field->name() + ": timestamp out of range");
      }
      return Value(micros);
    }
    case FieldType::kPoint: {
      const pb::Message& p = r->GetMessage(message, field);
      const pb::Descriptor* d = p.GetDescriptor();
      return Value(sluice::Point{p.GetReflection()->GetDouble(p, d->FindFieldByName("x")),
                                 p.GetReflection()->GetDouble(p, d->FindFieldByName("y"))});
    }
  }
  return Internal("unhandled field type");
}

}  // namespace sluice::grpc_api
