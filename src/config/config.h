// The validated form of a sluice.yaml. The file format is a public contract (docs/config.md):
// change it only compatibly. Every element remembers where it was written so later stages
// (pipeline build, schema resolution) can name file:line in their errors too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/schema.h"

namespace sluice {

struct ConfigLocation {
  std::string file;
  int line = 0;     // 1-based
  int column = 0;   // 1-based
  std::string key;  // path of the key, e.g. "endpoints[0].table"

  // "sluice.yaml:12:5: endpoints[0].table"
  std::string ToString() const;
  // An InvalidArgument error prefixed with this location.
  Status Error(std::string_view message) const;
};

enum class ConnectionKind { kGenerator, kFiles, kPostgres };
enum class FileFormat { kCsv, kJsonl };
enum class OnError { kFail, kSkip };

struct GeneratorOptions {
  std::string dataset = "nexmark";
  uint64_t events = 0;  // 0 = unbounded
  double rate = 0;      // events per second, 0 = as fast as possible
  uint64_t seed = 1;
};

struct FilesOptions {
  std::string path;
  FileFormat format = FileFormat::kCsv;
  OnError on_error = OnError::kFail;
};

// PostgreSQL CDC (logical replication with pgoutput). Either `url` or the separate keys; the
// separate keys override the URL's parts. Empty publication/slot: sluice_<app>_<connection>.
struct PostgresOptions {
  std::string url;  // postgres://user:pass@host:port/db?sslmode=...
  std::string host, user, password, database;
  int port = 0;  // 0: the URL's, else 5432
  std::string publication;
  std::string slot;
  bool snapshot = true;  // snapshot: initial (true) | never
};

struct ConnectionConfig {
  std::string name;
  ConnectionKind kind = ConnectionKind::kGenerator;
  GeneratorOptions generator;
  FilesOptions files;
  PostgresOptions postgres;
  ConfigLocation location;
};

struct SourceConfig {
  std::string name;  // the table name SQL and endpoints see
  std::string connection;
  std::string table;                         // name at the source
  std::optional<std::vector<Field>> schema;  // files only
  std::vector<std::string> columns;          // postgres: a subset of the table's (empty: all)
  std::vector<std::string> primary_key;
  ConfigLocation location;
};

// One entry of an endpoint's `indexes:` — a sorted index over `fields`, or a full-text index
// over the column `full_text`.
struct IndexConfig {
  std::vector<std::string> fields;
  std::string full_text;
  ConfigLocation location;
};

struct EndpointConfig {
  std::string name;
  std::string path;
  std::string table;
  std::optional<std::vector<std::string>> primary_key;  // unset: the table's key
  std::vector<IndexConfig> indexes;
  // A sorted index per scalar column when `indexes` is empty (off by default: every index
  // costs write throughput).
  bool default_indexes = false;
  ConfigLocation location;
};

// `api.grpc`: the gRPC API is served only when configured (docs/grpc.md).
struct GrpcConfig {
  std::string host;  // default: api.host
  int port = 50051;  // 0 = a free port (logged)
};

// `api.auth`: JWT on every route but /health (docs/auth.md). Key files are read relative to
// the working directory, like every other path in the config.
struct AuthConfig {
  std::string jwt_secret;      // HS256
  std::string jwt_public_key;  // path of an RS256/ES256 public key (PEM)
  std::string jwks_file;       // path of a JWKS document
  std::string audience;
  std::string issuer;
  ConfigLocation location;
};

struct ApiConfig {
  std::string host = "0.0.0.0";
  int rest_port = 8080;
  int threads = 0;  // 0 = one per core
  std::optional<GrpcConfig> grpc;
  // Where `sluice run app` serves its change log to API nodes (default port 50053).
  GrpcConfig app_grpc{"", 50053};
  std::optional<AuthConfig> auth;
};

// `log:` — the change log of committed epochs (docs/config.md#log). `sluice run app` always
// keeps one; `sluice run` keeps one when `log:` is set.
struct LogConfig {
  enum class Kind { kLocal, kJetStream };
  Kind kind = Kind::kLocal;
  bool configured = false;  // `log:` is in the file
  // fsync of appended epochs: 0 = before each epoch commits; > 0 = group commit, at most one
  // fsync per that many milliseconds (epochs wait for it before sources are acknowledged);
  // -1 = never (durability left to the OS; for measurements).
  int fsync_interval_ms = 0;
  uint64_t segment_bytes = uint64_t(64) << 20;
  // Retention of entries every API node applied (0: keep).
  uint64_t max_bytes = 0;
  uint64_t max_age_seconds = 0;
  // kind: jetstream — the app also publishes each epoch to this JetStream stream.
  std::string servers;  // nats://host:port[,nats://...]
  std::string stream;   // default sluice_<app_name>
  int replicas = 1;     // stream replicas when the app creates it
  ConfigLocation location;
};

struct Config {
  std::string file;  // the path it was read from
  std::string app_name = "sluice";
  std::string home_dir = "./.sluice";
  std::string log_level = "info";
  std::vector<ConnectionConfig> connections;
  std::vector<SourceConfig> sources;
  std::vector<EndpointConfig> endpoints;
  ApiConfig api;
  LogConfig log;
  // `sql:` — SELECT ... INTO statements (docs/sql.md); sql_line is the config line the text
  // starts on, so SQL errors can point into the config.
  std::string sql;
  int sql_line = 0;
  int sql_indent = 0;  // columns the SQL text is indented by in the file
  // `sql_checkpoints:` — commit stateful operators' checkpoints with each epoch (docs/sql.md).
  // Off: less writing, but a restart rebuilds the cache from the sources.
  bool sql_checkpoints = true;

  const ConnectionConfig* FindConnection(std::string_view name) const;
  const SourceConfig* FindSource(std::string_view name) const;
};

// Reads, substitutes ${ENV} / ${ENV:-default}, parses and validates a config file.
Result<Config> LoadConfig(const std::string& path);
// The same for text already in memory; `file` is only used in messages.
Result<Config> ParseConfig(const std::string& text, const std::string& file);

}  // namespace sluice
