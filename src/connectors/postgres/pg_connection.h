// PgConnection: one libpq connection (a normal SQL session, or a walsender session for logical
// replication), owned, with errors turned into Status messages a user can act on: which host
// could not be reached, whose credentials were refused, which privilege is missing.
// Every session uses the settings the text parsers expect (TimeZone UTC, ISO dates, ...).
// Not thread-safe: one thread uses a connection at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace sluice {

struct PgResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

class PgConnection {
 public:
  // `replication`: a walsender session in database mode (CREATE_REPLICATION_SLOT, START_...).
  static Result<std::unique_ptr<PgConnection>> Open(const ConnectionConfig& config,
                                                    bool replication);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* get() const { return conn_; }
  // "127.0.0.1:5432/shop as sluice" — where this connection goes, for messages.
  const std::string& where() const { return where_; }
  const std::string& user() const { return user_; }

  // Runs one statement (parameters as text, $1 ...) that returns rows or nothing; an error
  // carries PostgreSQL's message and the statement's purpose (`what`).
  Result<PgResult> Exec(const std::string& sql, const std::string& what,
                        const std::vector<std::string>& params = {});
  // A single text value of the first row (empty result: NotFound).
  Result<std::string> QueryValue(const std::string& sql, const std::string& what,
                                 const std::vector<std::string>& params = {});

  std::string QuoteIdentifier(const std::string& name) const;
  std::string QuoteLiteral(const std::string& text) const;
  std::string LastError() const;

 private:
  PgConnection() = default;
  PGconn* conn_ = nullptr;
  std::string where_;
  std::string user_;
};

// "public.orders" -> "public"."orders"; "orders" -> "public"."orders".
std::string QualifiedTableName(const PgConnection& conn, const std::string& table);

}  // namespace sluice
