// PostgresServer: a throwaway PostgreSQL 15 server for tests — initdb in a temp directory, a
// free loopback port, fsync off, wal_level=logical — stopped and deleted on destruction. When
// the tests run as root (CI), the server runs as the `postgres` system user via runuser,
// because PostgreSQL refuses to run as root.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::testing {

class PostgresServer {
 public:
  static Result<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();

  int port() const { return port_; }
  std::string conninfo() const;

 private:
  PostgresServer() = default;
  std::string dir_;
  int port_ = 0;
  bool as_postgres_user_ = false;
};

// A libpq connection with the few calls tests need; errors carry PostgreSQL's message.
class PgConnection {
 public:
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo);
  ~PgConnection();
  Status Exec(const std::string& sql);
  // Rows of the last statement of `sql`, every value in text form (nullopt for NULL).
  Result<std::vector<std::vector<std::optional<std::string>>>> Query(const std::string& sql);

 private:
  PGconn* conn_ = nullptr;
};

}  // namespace sluice::testing
