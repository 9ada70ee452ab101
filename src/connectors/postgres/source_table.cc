#include "connectors/postgres/source_table.h"

#include <algorithm>
#include <cstdlib>

namespace sluice {
namespace {

uint32_t ToOid(const char* text) { return uint32_t(std::strtoul(text, nullptr, 10)); }

}  // namespace

Result<PgTypeCatalog> LoadTypeCatalog(PgConnection& conn) {
  ASSIGN_OR_RETURN(PgResult r, conn.Exec("SELECT oid, typtype, typelem, typbasetype, typcategory "
                                         "FROM pg_type WHERE typtype IN ('e', 'd') OR "
                                         "typcategory IN ('S', 'A')",
                                         "reading the type catalog"));
  PgTypeCatalog catalog;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const uint32_t oid = ToOid(PQgetvalue(r.get(), i, 0));
    const char typtype = PQgetvalue(r.get(), i, 1)[0];
    const uint32_t elem = ToOid(PQgetvalue(r.get(), i, 2));
    const uint32_t base = ToOid(PQgetvalue(r.get(), i, 3));
    const char category = PQgetvalue(r.get(), i, 4)[0];
    if (typtype == 'e') catalog.enums.insert(oid);
    if (typtype == 'd') catalog.domain_bases[oid] = base;
    if (category == 'S' && typtype != 'd') catalog.strings.insert(oid);
    if (category == 'A' && elem != 0) catalog.array_elements[oid] = elem;
  }
  return catalog;
}

Result<PgSourceTable> LoadSourceTable(PgConnection& conn, const PgTypeCatalog& types,
                                      const SourceConfig& source) {
  PgSourceTable t;
  t.config = &source;
  t.qualified = QualifiedTableName(conn, source.table);
  const std::string where = source.location.ToString() + ": source '" + source.name + "': ";
  ASSIGN_OR_RETURN(
      PgResult rel,
      conn.Exec("SELECT c.oid, n.nspname, c.relname, c.relreplident, c.relkind FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                "looking up table " + source.table, {t.qualified}));
  if (PQntuples(rel.get()) == 0) {
    return NotFound(where + "table " + source.table + " does not exist in " + conn.where() +
                    " (write it schema-qualified, e.g. public.orders)");
  }
  t.oid = ToOid(PQgetvalue(rel.get(), 0, 0));
  t.namespace_name = PQgetvalue(rel.get(), 0, 1);
  t.name = PQgetvalue(rel.get(), 0, 2);
  t.replica_identity = PQgetvalue(rel.get(), 0, 3)[0];
  const char kind = PQgetvalue(rel.get(), 0, 4)[0];
  if (kind != 'r' && kind != 'p') {
    return FailedPrecondition(where + source.table +
                              " is not a table (views and other relations cannot be captured)");
  }

  ASSIGN_OR_RETURN(PgResult cols,
                   conn.Exec("SELECT attname, atttypid, atttypmod, attnotnull FROM pg_attribute "
                             "WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped "
                             "ORDER BY attnum",
                             "reading the columns of " + source.table, {std::to_string(t.oid)}));
  std::vector<std::string> wanted = source.columns;
  for (int i = 0; i < PQntuples(cols.get()); ++i) {
    const std::string name = PQgetvalue(cols.get(), i, 0);
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    const uint32_t type_oid = ToOid(PQgetvalue(cols.get(), i, 1));
    const int32_t typmod = int32_t(std::strtol(PQgetvalue(cols.get(), i, 2), nullptr, 10));
    auto type = MapPgType(type_oid, typmod, types);
    if (!type.ok())
      return FailedPrecondition(where + "column " + name + ": " + type.status().message());
    if (type->kept_as_text) {
      t.warnings.push_back("column " + name + " of " + source.table +
                           " has a type Sluice does "
                           "not know (oid " +
                           std::to_string(type_oid) + "); it is captured as its text");
    }
    Field field;
    field.name = name;
    field.type = type->field_type;
    field.nullable = PQgetvalue(cols.get(), i, 3)[0] != 't';
    t.schema.fields.push_back(std::move(field));
    t.types.push_back(*type);
  }
  for (const std::string& c : wanted) {
    bool found = std::any_of(t.schema.fields.begin(), t.schema.fields.end(),
                             [&](const Field& f) { return f.name == c; });
    if (!found) return NotFound(where + "column " + c + " is not a column of " + source.table);
  }

  // The row identity: the config's primary_key, else the primary key, else the replica
  // identity index. Without any, only REPLICA IDENTITY FULL identifies rows (as a multiset).
  std::vector<std::string> key = source.primary_key;
  if (key.empty() && t.replica_identity != 'f') {
    const char* flag = t.replica_identity == 'i' ? "indisreplident" : "indisprimary";
    ASSIGN_OR_RETURN(
        PgResult k,
        conn.Exec(std::string("SELECT a.attname FROM pg_index i CROSS JOIN LATERAL "
                              "unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) JOIN "
                              "pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                              "WHERE i.indrelid = $1 AND i.") +
                      flag + " ORDER BY k.ord",
                  "reading the key of " + source.table, {std::to_string(t.oid)}));
    for (int i = 0; i < PQntuples(k.get()); ++i) key.push_back(PQgetvalue(k.get(), i, 0));
    if (key.empty()) {
      return FailedPrecondition(
          where + "table " + source.table + " has no primary key and REPLICA IDENTITY " +
          (t.replica_identity == 'n' ? "NOTHING" : "DEFAULT") +
          ", so PostgreSQL cannot say which row an UPDATE or DELETE changed. Add a primary key, "
          "or run ALTER TABLE " +
          source.table +
          " REPLICA IDENTITY FULL (or REPLICA IDENTITY USING INDEX <a unique index>)");
    }
  }
  if (!key.empty()) {
    auto columns = t.schema.ResolveColumns(key);
    if (!columns.ok()) {
      return FailedPrecondition(where + "key of " + source.table + ": " +
                                columns.status().message() +
                                " (the captured columns must include it)");
    }
    t.schema.primary_key = *columns;
  }
  return t;
}

}  // namespace sluice
