// The compact binary form of a record as stored in the cache: a null bitmap, then each
// non-null field in schema order (varints for integers, zigzag for signed ones, 8 bytes for
// floats, length-prefixed bytes for strings). The schema is not stored: the reader must hold
// the same schema the writer used (the cache checks a schema fingerprint for that).
#pragma once

#include <string>
#include <string_view>

#include <cstring>

#include "common/status.h"
#include "types/schema.h"
#include "types/value.h"
#include "types/varint.h"

namespace sluice {

// Appends the encoding of `record` (which must match `schema`) to `out`.
void EncodeRow(const Schema& schema, const Record& record, std::string* out);

// Decodes a row; a truncated or malformed buffer is a DataLoss error, never a crash.
Result<Record> DecodeRow(const Schema& schema, std::string_view bytes);

// The largest decimal coefficient a stored row may hold: 38 digits (decimal.h).
inline constexpr __int128 kMaxStoredCoefficient = [] {
  __int128 v = 1;
  for (int i = 0; i < Decimal::kMaxDigits; ++i) v *= 10;
  return v - 1;
}();

// Walks an encoded row without materialising Values: for field i the visitor gets exactly one
// of Null(i), Bool(i, b), Int(i, int64), UInt(i, uint64), Float(i, double), Decimal(i, d),
// Bytes(i, view) or Point(i, p). Views point into `bytes`. Readers that turn stored rows
// straight into JSON use this to avoid per-field allocations.
template <typename Visitor>
Status VisitRow(const Schema& schema, std::string_view bytes, Visitor& visitor) {
  const size_t n = schema.fields.size();
  const size_t bitmap_len = (n + 7) / 8;
  auto corrupt = [&](size_t field) {
    return DataLoss("stored row is malformed at field '" + schema.fields[field].name + "'");
  };
  if (bytes.size() < bitmap_len) return DataLoss("stored row is shorter than its null bitmap");
  const char* bitmap = bytes.data();
  VarintReader in(bytes.substr(bitmap_len));
  for (size_t i = 0; i < n; ++i) {
    if (bitmap[i / 8] & (1 << (i % 8))) {
      visitor.Null(i);
      continue;
    }
    switch (schema.fields[i].type) {
      case FieldType::kBoolean: {
        auto b = in.Bytes(1);
        if (!b) return corrupt(i);
        visitor.Bool(i, (*b)[0] != 0);
        break;
      }
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kTimestamp:
      case FieldType::kDuration: {
        auto u = in.Varint();
        if (!u) return corrupt(i);
        visitor.Int(i, UnZigZag(*u));
        break;
      }
      case FieldType::kUInt: {
        auto u = in.Varint();
        if (!u) return corrupt(i);
        visitor.UInt(i, *u);
        break;
      }
      case FieldType::kFloat: {
        auto b = in.Bytes(8);
        if (!b) return corrupt(i);
        double d;
        std::memcpy(&d, b->data(), 8);
        visitor.Float(i, d);
        break;
      }
      case FieldType::kDecimal: {
        auto scale = in.Bytes(1);
        auto c = scale ? in.Varint128() : std::nullopt;
        if (!c) return corrupt(i);
        const __int128 coefficient = UnZigZag128(*c);
        // More than 38 digits, or more than 38 decimals on a non-zero value, is no Sluice
        // decimal: corrupt bytes (-2^127 broke every reader that negates it, e.g. the key
        // codec, and a scale of 130 or more wrapped its exponent; found by tests/fuzz).
        if (coefficient > kMaxStoredCoefficient || coefficient < -kMaxStoredCoefficient ||
            (coefficient != 0 && uint8_t((*scale)[0]) > Decimal::kMaxDigits)) {
          return corrupt(i);
        }
        visitor.Decimal(i, sluice::Decimal(coefficient, uint8_t((*scale)[0])));
        break;
      }
      case FieldType::kString:
      case FieldType::kText:
      case FieldType::kBinary:
      case FieldType::kJson: {
        auto len = in.Varint();
        auto s = len ? in.Bytes(*len) : std::nullopt;
        if (!s) return corrupt(i);
        visitor.Bytes(i, *s);
        break;
      }
      case FieldType::kPoint: {
        auto b = in.Bytes(16);
        if (!b) return corrupt(i);
        sluice::Point p;
        std::memcpy(&p.x, b->data(), 8);
        std::memcpy(&p.y, b->data() + 8, 8);
        visitor.Point(i, p);
        break;
      }
    }
  }
  if (!in.done()) return DataLoss("stored row has trailing bytes");
  return Status::OK();
}

}  // namespace sluice
