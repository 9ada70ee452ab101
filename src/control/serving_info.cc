#include "control/serving_info.h"

#include "types/varint.h"

namespace sluice {
namespace {

constexpr uint64_t kFormatVersion = 1;

void PutString(std::string_view s, std::string* out) {
  AppendVarint(s.size(), out);
  out->append(s);
}

void PutSchema(const Schema& schema, std::string* out) {
  AppendVarint(schema.fields.size(), out);
  for (const Field& f : schema.fields) {
    PutString(f.name, out);
    AppendVarint(uint64_t(f.type), out);
    AppendVarint(f.nullable ? 1 : 0, out);
  }
  AppendVarint(schema.primary_key.size(), out);
  for (size_t c : schema.primary_key) AppendVarint(c, out);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : in_(bytes) {}
  bool Number(uint64_t* v) {
    auto n = in_.Varint();
    if (!n) return false;
    *v = *n;
    return true;
  }
  bool String(std::string* s) {
    uint64_t n;
    if (!Number(&n)) return false;
    auto bytes = in_.Bytes(n);
    if (!bytes) return false;
    *s = std::string(*bytes);
    return true;
  }
  bool Columns(size_t limit, std::vector<size_t>* out) {
    uint64_t n;
    if (!Number(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t c;
      if (!Number(&c) || c >= limit) return false;
      out->push_back(size_t(c));
    }
    return true;
  }
  bool ReadSchema(Schema* schema) {
    uint64_t n;
    if (!Number(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      Field f;
      uint64_t type, nullable;
      if (!String(&f.name) || !Number(&type) || !Number(&nullable)) return false;
      f.type = FieldType(type);
      f.nullable = nullable != 0;
      schema->fields.push_back(std::move(f));
    }
    return Columns(schema->fields.size(), &schema->primary_key);
  }
  bool done() const { return in_.done(); }

 private:
  VarintReader in_;
};

}  // namespace

std::string EncodeServingInfo(const ServingInfo& info) {
  std::string out;
  AppendVarint(kFormatVersion, &out);
  AppendVarint(info.tables.size(), &out);
  for (const TableDefinition& t : info.tables) {
    PutString(t.name, &out);
    PutString(t.lineage, &out);
    PutSchema(t.schema, &out);
    AppendVarint(t.indexes.size(), &out);
    for (const IndexDefinition& index : t.indexes) {
      AppendVarint(uint64_t(index.kind), &out);
      AppendVarint(index.columns.size(), &out);
      for (size_t c : index.columns) AppendVarint(c, &out);
    }
  }
  AppendVarint(info.endpoints.size(), &out);
  for (const RestEndpoint& e : info.endpoints) {
    PutString(e.name, &out);
    PutString(e.path, &out);
    PutString(e.table, &out);
    AppendVarint(e.cache_table, &out);
  }
  return out;
}

Result<ServingInfo> DecodeServingInfo(std::string_view bytes) {
  auto bad = [] { return DataLoss("the cache's serving definitions are unreadable"); };
  Reader in(bytes);
  ServingInfo info;
  uint64_t version, tables;
  if (!in.Number(&version) || version != kFormatVersion || !in.Number(&tables)) return bad();
  for (uint64_t t = 0; t < tables; ++t) {
    TableDefinition table;
    uint64_t indexes;
    if (!in.String(&table.name) || !in.String(&table.lineage) || !in.ReadSchema(&table.schema) ||
        !in.Number(&indexes)) {
      return bad();
    }
    for (uint64_t i = 0; i < indexes; ++i) {
      IndexDefinition index;
      uint64_t kind;
      if (!in.Number(&kind) || !in.Columns(table.schema.fields.size(), &index.columns)) {
        return bad();
      }
      index.kind = IndexDefinition::Kind(kind);
      table.indexes.push_back(std::move(index));
    }
    info.tables.push_back(std::move(table));
  }
  uint64_t endpoints;
  if (!in.Number(&endpoints)) return bad();
  for (uint64_t i = 0; i < endpoints; ++i) {
    RestEndpoint e;
    uint64_t cache_table;
    if (!in.String(&e.name) || !in.String(&e.path) || !in.String(&e.table) ||
        !in.Number(&cache_table) || cache_table >= info.tables.size()) {
      return bad();
    }
    e.cache_table = uint32_t(cache_table);
    e.schema = info.tables[cache_table].schema;
    info.endpoints.push_back(std::move(e));
  }
  if (!in.done()) return bad();
  return info;
}

}  // namespace sluice
