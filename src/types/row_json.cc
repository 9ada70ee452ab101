#include "types/row_json.h"

#include "types/row_codec.h"
#include "types/value_text.h"

namespace sluice {
namespace {

struct JsonWriter {
  const Schema& schema;
  const std::vector<std::string>& prefixes;
  std::string* out;
  bool first = true;

  // Starts field i; false when it is left out (an empty prefix).
  bool Field(size_t i) {
    if (prefixes[i].empty()) return false;
    if (!first) out->push_back(',');
    first = false;
    out->append(prefixes[i]);
    return true;
  }
  FieldType Type(size_t i) const { return schema.fields[i].type; }

  void Null(size_t i) {
    if (Field(i)) out->append("null");
  }
  void Bool(size_t i, bool b) {
    if (Field(i)) out->append(b ? "true" : "false");
  }
  void Int(size_t i, int64_t v) {
    if (Field(i)) AppendJsonInt64(Type(i), v, out);
  }
  void UInt(size_t i, uint64_t v) {
    if (Field(i)) AppendJsonUInt64(v, out);
  }
  void Float(size_t i, double v) {
    if (Field(i)) AppendJsonDouble(v, out);
  }
  void Decimal(size_t i, const sluice::Decimal& d) {
    if (!Field(i)) return;
    out->push_back('"');  // decimals are strings in JSON: exact, and never need escaping
    d.AppendTo(out);
    out->push_back('"');
  }
  void Bytes(size_t i, std::string_view s) {
    if (Field(i)) AppendJsonBytes(Type(i), s, out);
  }
  void Point(size_t i, const sluice::Point& p) {
    if (Field(i)) AppendJsonPoint(p, out);
  }
};

}  // namespace

Status AppendRowJson(const Schema& schema, std::string_view row,
                     const std::vector<std::string>& field_prefixes, std::string* out) {
  const size_t start = out->size();
  out->push_back('{');
  JsonWriter writer{schema, field_prefixes, out};
  Status s = VisitRow(schema, row, writer);
  if (!s.ok()) {
    out->resize(start);
    return s;
  }
  out->push_back('}');
  return Status::OK();
}

std::vector<std::string> JsonFieldPrefixes(const Schema& schema) {
  std::vector<std::string> prefixes;
  for (const auto& f : schema.fields) {
    std::string p;
    AppendJsonString(f.name, &p);
    p.push_back(':');
    prefixes.push_back(std::move(p));
  }
  return prefixes;
}

}  // namespace sluice
