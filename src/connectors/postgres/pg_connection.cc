#include "connectors/postgres/pg_connection.h"

namespace sluice {
namespace {

// What the text parsers (pg_types.h) expect; sent with every session, walsenders included,
// because the walsender formats values with its own session's settings.
constexpr const char* kSessionOptions =
    "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex -c client_encoding=UTF8";

bool Contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string Trimmed(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const ConnectionConfig& config,
                                                         bool replication) {
  const PostgresOptions& pg = config.postgres;
  std::vector<std::pair<std::string, std::string>> params;
  // expand_dbname: the first dbname may be a whole URL; later keys override its parts.
  if (!pg.url.empty()) params.emplace_back("dbname", pg.url);
  if (!pg.host.empty()) params.emplace_back("host", pg.host);
  if (pg.port) params.emplace_back("port", std::to_string(pg.port));
  if (!pg.user.empty()) params.emplace_back("user", pg.user);
  if (!pg.password.empty()) params.emplace_back("password", pg.password);
  if (!pg.database.empty()) params.emplace_back("dbname", pg.database);
  params.emplace_back("options", kSessionOptions);
  params.emplace_back("application_name", "sluice");
  params.emplace_back("connect_timeout", "10");
  if (replication) params.emplace_back("replication", "database");
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  auto conn = std::unique_ptr<PgConnection>(new PgConnection());
  conn->conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (!conn->conn_) return ResourceExhausted("libpq could not allocate a connection");
  const char* host = PQhost(conn->conn_);
  const char* port = PQport(conn->conn_);
  const char* db = PQdb(conn->conn_);
  const char* user = PQuser(conn->conn_);
  conn->user_ = user ? user : "";
  conn->where_ = std::string(host ? host : "?") + ":" + (port ? port : "?") + "/" +
                 (db ? db : "?") + " as " + conn->user_;
  if (PQstatus(conn->conn_) == CONNECTION_OK) return conn;

  const std::string error = Trimmed(PQerrorMessage(conn->conn_));
  const std::string prefix = "connection '" + config.name + "' (" + conn->where_ + "): ";
  if (Contains(error, "password authentication failed") ||
      Contains(error, "no password supplied") || Contains(error, "authentication failed")) {
    return Status(StatusCode::kFailedPrecondition,
                  prefix + "PostgreSQL refused the credentials of user '" + conn->user_ +
                      "'; check user and password (" + error + ")");
  }
  if (replication && (Contains(error, "replication") || Contains(error, "WAL sender"))) {
    return Status(StatusCode::kFailedPrecondition,
                  prefix + "user '" + conn->user_ +
                      "' may not open a replication connection: grant it with ALTER ROLE " +
                      conn->user_ +
                      " REPLICATION (and allow replication connections in pg_hba.conf if "
                      "needed) (" +
                      error + ")");
  }
  if (Contains(error, "database") && Contains(error, "does not exist")) {
    return Status(StatusCode::kFailedPrecondition, prefix + error);
  }
  return Unavailable(prefix + "cannot reach PostgreSQL: " + error);
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

std::string PgConnection::LastError() const { return Trimmed(PQerrorMessage(conn_)); }

Result<PgResult> PgConnection::Exec(const std::string& sql, const std::string& what,
                                    const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PgResult result(params.empty() ? PQexec(conn_, sql.c_str())
                                 : PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr,
                                                values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_COPY_OUT ||
      status == PGRES_COPY_BOTH) {
    return result;
  }
  std::string error = result ? Trimmed(PQresultErrorMessage(result.get())) : LastError();
  if (error.empty()) error = LastError();
  const Status base(StatusCode::kFailedPrecondition,
                    "PostgreSQL " + where_ + ": " + what + " failed: " + error);
  if (PQstatus(conn_) != CONNECTION_OK) return Unavailable(base.message());
  return base;
}

Result<std::string> PgConnection::QueryValue(const std::string& sql, const std::string& what,
                                             const std::vector<std::string>& params) {
  ASSIGN_OR_RETURN(PgResult r, Exec(sql, what, params));
  if (PQntuples(r.get()) == 0) return NotFound(what + ": no row");
  return std::string(PQgetvalue(r.get(), 0, 0));
}

std::string PgConnection::QuoteIdentifier(const std::string& name) const {
  char* quoted = PQescapeIdentifier(conn_, name.data(), name.size());
  std::string out = quoted ? quoted : "\"" + name + "\"";
  PQfreemem(quoted);
  return out;
}

std::string PgConnection::QuoteLiteral(const std::string& text) const {
  char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
  std::string out = quoted ? quoted : "''";
  PQfreemem(quoted);
  return out;
}

std::string QualifiedTableName(const PgConnection& conn, const std::string& table) {
  const size_t dot = table.find('.');
  if (dot == std::string::npos) return "public." + conn.QuoteIdentifier(table);
  return conn.QuoteIdentifier(table.substr(0, dot)) + "." +
         conn.QuoteIdentifier(table.substr(dot + 1));
}

}  // namespace sluice
