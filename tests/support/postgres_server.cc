#include "postgres_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace sluice::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Status Run(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc != 0) return Internal("command failed (" + std::to_string(rc) + "): " + command);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer());
  char tmpl[] = "/tmp/sluice_pg_XXXXXX";
  if (!::mkdtemp(tmpl)) return IoError("cannot create a temp directory for PostgreSQL");
  server->dir_ = tmpl;
  server->as_postgres_user_ = ::geteuid() == 0;
  std::string prefix = server->as_postgres_user_ ? "runuser -u postgres -- " : "";
  if (server->as_postgres_user_) RETURN_IF_ERROR(Run("chown postgres " + server->dir_));
  const std::string data = server->dir_ + "/data";
  RETURN_IF_ERROR(Run(prefix + kBin + "initdb -D " + data +
                      " -U postgres --auth=trust --locale=C -E UTF8 --no-sync > " + server->dir_ +
                      "/initdb.log 2>&1"));
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    Status s = Run(prefix + kBin + "pg_ctl -D " + data + " -l " + server->dir_ +
                   "/server.log -w -t 30 -o \"-p " + std::to_string(server->port_) + " -k " +
                   server->dir_ +
                   " -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=UTC "
                   "-c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10\" "
                   "start > /dev/null 2>&1");
    if (s.ok()) return server;
  }
  return Unavailable("PostgreSQL did not start; see " + server->dir_ + "/server.log");
}

PostgresServer::~PostgresServer() {
  if (dir_.empty()) return;
  std::string prefix = as_postgres_user_ ? "runuser -u postgres -- " : "";
  (void)Run(prefix + kBin + "pg_ctl -D " + dir_ + "/data -m immediate -w stop > /dev/null 2>&1");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& conninfo) {
  auto c = std::unique_ptr<PgConnection>(new PgConnection());
  c->conn_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(c->conn_) != CONNECTION_OK) {
    return Unavailable(std::string("cannot connect: ") + PQerrorMessage(c->conn_));
  }
  return c;
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

Status PgConnection::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  Status s = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
                 ? Status::OK()
                 : InvalidArgument(PQresultErrorMessage(r));
  PQclear(r);
  return s;
}

Result<std::vector<std::vector<std::optional<std::string>>>> PgConnection::Query(
    const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    Status s = InvalidArgument(PQresultErrorMessage(r));
    PQclear(r);
    return s;
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::optional<std::string>> row;
    for (int j = 0; j < PQnfields(r); ++j) {
      if (PQgetisnull(r, i, j)) {
        row.emplace_back();
      } else {
        row.emplace_back(std::string(PQgetvalue(r, i, j), size_t(PQgetlength(r, i, j))));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

}  // namespace sluice::testing
