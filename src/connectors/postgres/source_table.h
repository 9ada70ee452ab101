// PgSourceTable: one captured PostgreSQL table as Sluice sees it — its identity (oid, schema,
// name), the columns captured with their PostgreSQL types, the key that identifies a row in
// updates and deletes, and the replica identity that decides what old rows PostgreSQL sends.
// Loaded once at start-up from the catalog; the stream's Relation messages are checked against
// it so an ALTER TABLE never corrupts data silently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pg_types.h"
#include "types/schema.h"

namespace sluice {

struct PgSourceTable {
  const SourceConfig* config = nullptr;
  std::string qualified;  // "public"."orders", for SQL
  std::string namespace_name;
  std::string name;
  uint32_t oid = 0;
  char replica_identity = 'd';      // pg_class.relreplident: d(efault) n(othing) f(ull) i(ndex)
  Schema schema;                    // captured columns; primary_key = the row identity
  std::vector<PgColumnType> types;  // per captured column
  // Tell the user at start-up: columns whose type Sluice keeps as PostgreSQL's text.
  std::vector<std::string> warnings;

  // Old rows arrive whole (REPLICA IDENTITY FULL); otherwise only their key columns.
  bool full_old_rows() const { return replica_identity == 'f'; }
};

// Reads the catalog for `source`; errors name the source, the table and what to do.
Result<PgSourceTable> LoadSourceTable(PgConnection& conn, const PgTypeCatalog& types,
                                      const SourceConfig& source);
// Enums, domains, arrays and string-like types of the database, for MapPgType.
Result<PgTypeCatalog> LoadTypeCatalog(PgConnection& conn);

}  // namespace sluice
