// Typed values from outside text and stored bytes (src/types): ParseValueText (CSV fields,
// URL ids, query-string values), ValueFromJson (JSON Lines, filter operands), and the row and
// key codecs reading bytes back from the cache and the change log.
//
// Input: a selector byte, then bytes. Selector bits 0-3 pick the field type (mod 13); bits 4-5
// the mode: 0 text, 1 JSON, 2 a stored row of every type, 3 a stored key of every type.
// Contracts: refusals are Status errors (InvalidArgument for text and JSON, DataLoss for
// stored bytes), never a crash; a parsed value has the type's physical form, and its JSON
// form (the REST contract) is valid JSON that reads back as the identical value; values
// survive the key codec (==) and the row codec (identical); a stored row decodes exactly when
// it prints as JSON, and what decodes re-encodes to bytes that decode the same.
#include <simdjson.h>

#include "fuzz_support.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/row_json.h"
#include "types/value_text.h"

namespace sluice::fuzz::value_codec {
namespace {

constexpr FieldType kTypes[] = {FieldType::kBoolean,   FieldType::kInt,      FieldType::kUInt,
                                FieldType::kFloat,     FieldType::kDecimal,  FieldType::kString,
                                FieldType::kText,      FieldType::kBinary,   FieldType::kDate,
                                FieldType::kTimestamp, FieldType::kDuration, FieldType::kJson,
                                FieldType::kPoint};

const Schema& AllTypes() {
  static const Schema schema = [] {
    Schema s;
    for (FieldType t : kTypes) s.fields.push_back({std::string(FieldTypeName(t)), t, true});
    return s;
  }();
  return schema;
}

void CheckValue(FieldType type, const Value& v, const std::string& ctx) {
  FUZZ_CHECK(ValueFits(type, v), ctx);
  std::string json;
  AppendJsonValue(type, v, &json);
  FUZZ_CHECK(IsValidJson(json), "JSON form " + Printable(json) + " " + ctx);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element element;
  FUZZ_CHECK(parser.parse(padded).get(element) == simdjson::SUCCESS, ctx);
  auto back = ValueFromJson(type, element);
  FUZZ_CHECK(back.ok() && SameValue(type, *back, v),
             "JSON form " + Printable(json) + " reads back as " +
                 (back.ok() ? back->DebugString() : Describe(back.status())) + ", not " +
                 v.DebugString() + " (" + std::string(FieldTypeName(type)) + ") " + ctx);
  if (type != FieldType::kJson && type != FieldType::kPoint) {
    std::string key;
    EncodeKeyValue(type, v, &key);
    auto decoded = DecodeKey({type}, key);
    FUZZ_CHECK(decoded.ok() && decoded->size() == 1 && (*decoded)[0] == v,
               "key codec: " + v.DebugString() + " " + ctx);
  }
  Schema one{{{"v", type, true}}, {}};
  std::string row;
  EncodeRow(one, {v}, &row);
  auto decoded = DecodeRow(one, row);
  FUZZ_CHECK(decoded.ok() && IdenticalRecords(*decoded, {v}), "row codec: " + v.DebugString());
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  if (size == 0) return 0;
  const FieldType type = kTypes[(data[0] & 15) % std::size(kTypes)];
  const int mode = (data[0] >> 4) & 3;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string ctx = "mode " + std::to_string(mode) + " type " +
                          std::string(FieldTypeName(type)) + " input " + Printable(in);
  switch (mode) {
    case 0: {
      auto v = ParseValueText(type, in);
      if (!v.ok()) {
        FUZZ_CHECK(v.status().code() == StatusCode::kInvalidArgument, Describe(v.status()) + ctx);
        return 0;
      }
      FUZZ_CHECK(!v->is_null(), ctx);
      CheckValue(type, *v, ctx);
      return 0;
    }
    case 1: {
      simdjson::dom::parser parser;
      simdjson::padded_string padded(in);
      simdjson::dom::element element;
      if (parser.parse(padded).get(element) != simdjson::SUCCESS) return 0;
      auto v = ValueFromJson(type, element);
      if (!v.ok()) {
        FUZZ_CHECK(v.status().code() == StatusCode::kInvalidArgument, Describe(v.status()) + ctx);
        return 0;
      }
      CheckValue(type, *v, ctx);
      return 0;
    }
    case 2: {
      const Schema& schema = AllTypes();
      auto record = DecodeRow(schema, in);
      std::string json;
      Status printed = AppendRowJson(schema, in, JsonFieldPrefixes(schema), &json);
      FUZZ_CHECK(record.ok() == printed.ok(), "DecodeRow and AppendRowJson disagree: " + ctx);
      if (!record.ok()) {
        FUZZ_CHECK(record.status().code() == StatusCode::kDataLoss, Describe(record.status()));
        return 0;
      }
      // json values are stored as JSON text that was checked on the way in and are embedded
      // as they are (the hot path does not parse them again): only when the stored text is
      // JSON must the row be (docs/fuzzing.md, "json bytes are trusted").
      const size_t json_column = 11;
      const Value& stored_json = (*record)[json_column];
      if (stored_json.is_null() || IsValidJson(stored_json.as_string())) {
        FUZZ_CHECK(IsValidJson(json), "stored row as JSON " + Printable(json) + " " + ctx);
      }
      // Stored rows feed the key codec too (index entries, cursors, $in sets).
      for (size_t i = 0; i < schema.fields.size(); ++i) {
        const FieldType t = schema.fields[i].type;
        if (t == FieldType::kJson || t == FieldType::kPoint) continue;
        std::string key;
        EncodeKeyValue(t, (*record)[i], &key);
        auto back = DecodeKey({t}, key);
        FUZZ_CHECK(back.ok(), "the key of stored " + (*record)[i].DebugString() + " " + ctx);
      }
      std::string again;
      EncodeRow(schema, *record, &again);
      auto redecoded = DecodeRow(schema, again);
      FUZZ_CHECK(redecoded.ok() && IdenticalRecords(*redecoded, *record), ctx);
      return 0;
    }
    default: {
      std::vector<FieldType> types;
      for (FieldType t : kTypes) {
        if (t != FieldType::kJson && t != FieldType::kPoint) types.push_back(t);
      }
      auto record = DecodeKey(types, in);
      if (!record.ok()) return 0;
      std::string again;
      for (size_t i = 0; i < types.size(); ++i) EncodeKeyValue(types[i], (*record)[i], &again);
      auto redecoded = DecodeKey(types, again);
      FUZZ_CHECK(redecoded.ok() && *redecoded == *record, "key round trip: " + ctx);
      return 0;
    }
  }
}

}  // namespace sluice::fuzz::value_codec
