// Turns YAML into a validated Config. yaml-cpp reports positions through Node::Mark(); every
// error below is raised with the position and key path of the node it is about.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "common/file_util.h"
#include "config/config.h"
#include "config/env_substitution.h"

namespace sluice {

std::string ConfigLocation::ToString() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!key.empty()) out += ": " + key;
  return out;
}

Status ConfigLocation::Error(std::string_view message) const {
  return InvalidArgument(ToString() + ": " + std::string(message));
}

const ConnectionConfig* Config::FindConnection(std::string_view name) const {
  for (const auto& c : connections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const SourceConfig* Config::FindSource(std::string_view name) const {
  for (const auto& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

namespace {

constexpr uint64_t kMaxApiThreads = 1024;

// Thrown inside this file only; LoadConfig turns it into a Status.
struct ConfigError {
  Status status;
};

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  ConfigLocation At(const YAML::Node& node, const std::string& key) const {
    YAML::Mark m = node.Mark();
    return ConfigLocation{file_, m.line + 1, m.column + 1, key};
  }

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         std::string_view message) const {
    throw ConfigError{At(node, key).Error(message)};
  }

  // Refuses keys outside `allowed`, suggesting the closest allowed one.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<const char*> allowed) const {
    if (!map.IsMap()) Fail(map, path, "expected a mapping");
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = it->first.as<std::string>();
      bool ok =
          std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; });
      if (ok) continue;
      std::string best;
      size_t best_distance = 3;
      for (const char* a : allowed) {
        size_t d = EditDistance(key, a);
        if (d < best_distance) best_distance = d, best = a;
      }
      std::string where = path.empty() ? "at top level" : "in " + path;
      std::string message = "unknown key '" + key + "' " + where;
      if (!best.empty()) message += " (did you mean '" + best + "'?)";
      std::string known;
      for (const char* a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      message += "; allowed: " + known;
      Fail(it->first, Join(path, key), message);
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::string String(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) Fail(node, key, "expected a string");
    return node.Scalar();
  }

  std::string RequiredString(const YAML::Node& map, const char* name,
                             const std::string& path) const {
    YAML::Node n = map[name];
    if (!n) Fail(map, Join(path, name), std::string("missing required key '") + name + "'");
    std::string s = String(n, Join(path, name));
    if (s.empty()) Fail(n, Join(path, name), "must not be empty");
    return s;
  }

  uint64_t Unsigned(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) Fail(node, key, "expected a non-negative integer");
    const std::string& s = node.Scalar();
    uint64_t v = 0;
    if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
      Fail(node, key, "expected a non-negative integer, got '" + s + "'");
    }
    for (char c : s) v = v * 10 + uint64_t(c - '0');
    return v;
  }

  double NonNegativeNumber(const YAML::Node& node, const std::string& key) const {
    double v;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !(v >= 0)) {
      Fail(node, key, "expected a non-negative number, got '" + node.Scalar() + "'");
    }
    return v;
  }

  bool Bool(const YAML::Node& node, const std::string& key) const {
    bool v;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      Fail(node, key, "expected true or false, got '" + node.Scalar() + "'");
    }
    return v;
  }

  std::vector<std::string> StringList(const YAML::Node& node, const std::string& key) const {
    if (!node.IsSequence()) Fail(node, key, "expected a list, e.g. [id]");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      out.push_back(String(node[i], key + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  template <typename T>
  T Enum(const YAML::Node& node, const std::string& key,
         std::initializer_list<std::pair<const char*, T>> options) const {
    std::string s = String(node, key);
    std::string names;
    for (const auto& [name, value] : options) {
      if (s == name) return value;
      names += (names.empty() ? "" : " | ") + std::string(name);
    }
    Fail(node, key, "unknown value '" + s + "' (expected " + names + ")");
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

ConnectionConfig ReadConnection(const Reader& r, const YAML::Node& node, const std::string& path) {
  ConnectionConfig c;
  c.location = r.At(node, path);
  if (!node.IsMap()) r.Fail(node, path, "expected a mapping with name and kind");
  c.name = r.RequiredString(node, "name", path);
  YAML::Node kind = node["kind"];
  if (!kind) {
    r.Fail(node, path + ".kind", "missing required key 'kind' (generator | files | postgres)");
  }
  c.kind = r.Enum<ConnectionKind>(kind, path + ".kind",
                                  {{"generator", ConnectionKind::kGenerator},
                                   {"files", ConnectionKind::kFiles},
                                   {"postgres", ConnectionKind::kPostgres}});
  if (c.kind == ConnectionKind::kPostgres) {
    r.CheckKeys(node, path,
                {"name", "kind", "url", "host", "port", "user", "password", "database",
                 "publication", "slot", "snapshot"});
    PostgresOptions& pg = c.postgres;
    if (auto n = node["url"]) {
      pg.url = r.String(n, path + ".url");
      if (pg.url.rfind("postgres://", 0) != 0 && pg.url.rfind("postgresql://", 0) != 0) {
        r.Fail(n, path + ".url", "expected a URL starting with postgres:// or postgresql://");
      }
    }
    for (auto [key, field] :
         {std::pair{"host", &pg.host}, std::pair{"user", &pg.user},
          std::pair{"password", &pg.password}, std::pair{"database", &pg.database},
          std::pair{"publication", &pg.publication}, std::pair{"slot", &pg.slot}}) {
      if (auto n = node[key]) *field = r.String(n, path + "." + key);
    }
    if (auto n = node["port"]) {
      uint64_t port = r.Unsigned(n, path + ".port");
      if (port == 0 || port > 65535) r.Fail(n, path + ".port", "expected a port in 1..65535");
      pg.port = int(port);
    }
    if (pg.url.empty() && pg.host.empty()) {
      r.Fail(node, path, "a postgres connection needs 'url' or 'host' (with user, database ...)");
    }
    for (auto [key, value] :
         {std::pair{"slot", &pg.slot}, std::pair{"publication", &pg.publication}}) {
      for (char ch : *value) {
        if (!(std::islower(static_cast<unsigned char>(ch)) ||
              std::isdigit(static_cast<unsigned char>(ch)) || ch == '_')) {
          r.Fail(node[key], path + "." + key,
                 "'" + *value + "' is not a valid name: use lower-case letters, digits and _");
        }
      }
    }
    if (auto n = node["snapshot"]) {
      pg.snapshot = r.Enum<bool>(n, path + ".snapshot", {{"initial", true}, {"never", false}});
    }
  } else if (c.kind == ConnectionKind::kGenerator) {
    r.CheckKeys(node, path, {"name", "kind", "dataset", "events", "rate", "seed"});
    if (auto n = node["dataset"]) {
      c.generator.dataset = r.Enum<std::string>(n, path + ".dataset", {{"nexmark", "nexmark"}});
    }
    if (auto n = node["events"]) c.generator.events = r.Unsigned(n, path + ".events");
    if (auto n = node["rate"]) c.generator.rate = r.NonNegativeNumber(n, path + ".rate");
    if (auto n = node["seed"]) c.generator.seed = r.Unsigned(n, path + ".seed");
  } else {
    r.CheckKeys(node, path, {"name", "kind", "path", "format", "on_error"});
    c.files.path = r.RequiredString(node, "path", path);
    if (auto n = node["format"]) {
      c.files.format = r.Enum<FileFormat>(
          n, path + ".format", {{"csv", FileFormat::kCsv}, {"jsonl", FileFormat::kJsonl}});
    }
    if (auto n = node["on_error"]) {
      c.files.on_error = r.Enum<OnError>(n, path + ".on_error",
                                         {{"fail", OnError::kFail}, {"skip", OnError::kSkip}});
    }
  }
  return c;
}

std::vector<Field> ReadSchema(const Reader& r, const YAML::Node& node, const std::string& path) {
  if (!node.IsSequence() || node.size() == 0) {
    r.Fail(node, path, "expected a non-empty list of {name, type, nullable}");
  }
  std::vector<Field> fields;
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node f = node[i];
    std::string fpath = path + "[" + std::to_string(i) + "]";
    r.CheckKeys(f, fpath, {"name", "type", "nullable"});
    Field field;
    field.name = r.RequiredString(f, "name", fpath);
    if (!seen.insert(field.name).second) r.Fail(f, fpath, "duplicate column '" + field.name + "'");
    if (auto t = f["type"]) {
      std::string type_name = r.String(t, fpath + ".type");
      auto type = ParseFieldType(type_name);
      if (!type) {
        r.Fail(t, fpath + ".type",
               "unknown type '" + type_name + "' (expected one of " +
                   std::string(FieldTypeNames()) + ")");
      }
      field.type = *type;
    }
    if (auto n = f["nullable"]) field.nullable = r.Bool(n, fpath + ".nullable");
    fields.push_back(std::move(field));
  }
  return fields;
}

SourceConfig ReadSource(const Reader& r, const YAML::Node& node, const std::string& path) {
  SourceConfig s;
  s.location = r.At(node, path);
  r.CheckKeys(node, path, {"name", "connection", "table", "schema", "primary_key", "columns"});
  s.name = r.RequiredString(node, "name", path);
  s.connection = r.RequiredString(node, "connection", path);
  s.table = node["table"] ? r.String(node["table"], path + ".table") : s.name;
  if (auto n = node["schema"]) s.schema = ReadSchema(r, n, path + ".schema");
  if (auto n = node["columns"]) s.columns = r.StringList(n, path + ".columns");
  if (auto n = node["primary_key"]) {
    s.primary_key = r.StringList(n, path + ".primary_key");
    if (s.schema) {
      for (size_t i = 0; i < s.primary_key.size(); ++i) {
        const std::string& col = s.primary_key[i];
        bool found = std::any_of(s.schema->begin(), s.schema->end(),
                                 [&](const Field& f) { return f.name == col; });
        if (!found) {
          r.Fail(n[i], path + ".primary_key", "column '" + col + "' is not in the schema");
        }
      }
    }
  }
  return s;
}

EndpointConfig ReadEndpoint(const Reader& r, const YAML::Node& node, const std::string& path) {
  EndpointConfig e;
  e.location = r.At(node, path);
  r.CheckKeys(node, path, {"name", "path", "table", "primary_key", "indexes", "default_indexes"});
  e.name = r.RequiredString(node, "name", path);
  e.path = r.RequiredString(node, "path", path);
  if (e.path[0] != '/' || e.path.size() < 2 || e.path.back() == '/' ||
      e.path.find_first_of("?#{} ") != std::string::npos) {
    r.Fail(node["path"], path + ".path",
           "must start with '/', not end with '/', and contain no '?', '#', '{', '}' or spaces");
  }
  static const std::set<std::string> kReserved = {"/health", "/openapi.json", "/docs", "/auth"};
  std::string first_segment = e.path.substr(0, e.path.find('/', 1));
  if (kReserved.count(first_segment)) {
    r.Fail(node["path"], path + ".path", "'" + first_segment + "' is reserved by Sluice");
  }
  e.table = r.RequiredString(node, "table", path);
  if (auto n = node["primary_key"]) e.primary_key = r.StringList(n, path + ".primary_key");
  if (auto n = node["default_indexes"]) e.default_indexes = r.Bool(n, path + ".default_indexes");
  if (auto list = node["indexes"]) {
    if (!list.IsSequence()) {
      r.Fail(list, path + ".indexes", "expected a list of {fields: [..]} or {full_text: column}");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string ipath = path + ".indexes[" + std::to_string(i) + "]";
      r.CheckKeys(item, ipath, {"fields", "full_text"});
      IndexConfig index;
      index.location = r.At(item, ipath);
      if (item["fields"]) index.fields = r.StringList(item["fields"], ipath + ".fields");
      if (item["full_text"]) index.full_text = r.String(item["full_text"], ipath + ".full_text");
      if (index.fields.empty() == index.full_text.empty()) {
        r.Fail(item, ipath, "expected exactly one of 'fields' (a non-empty list) or 'full_text'");
      }
      e.indexes.push_back(std::move(index));
    }
  }
  return e;
}

ApiConfig ReadApi(const Reader& r, const YAML::Node& node) {
  ApiConfig api;
  r.CheckKeys(node, "api", {"host", "rest", "grpc", "app_grpc", "threads", "auth"});
  if (auto n = node["host"]) api.host = r.String(n, "api.host");
  auto read_port = [&](const YAML::Node& p, const std::string& key) {
    uint64_t port = r.Unsigned(p, key);
    if (port > 65535) r.Fail(p, key, "must be between 0 and 65535");
    return int(port);
  };
  if (auto rest = node["rest"]) {
    r.CheckKeys(rest, "api.rest", {"port"});
    if (auto p = rest["port"]) api.rest_port = read_port(p, "api.rest.port");
  }
  if (auto grpc = node["grpc"]) {
    GrpcConfig g;
    g.host = api.host;
    // `grpc:` alone (a null node) serves gRPC with the defaults.
    if (!grpc.IsNull()) {
      r.CheckKeys(grpc, "api.grpc", {"host", "port"});
      if (auto n = grpc["host"]) g.host = r.String(n, "api.grpc.host");
      if (auto p = grpc["port"]) g.port = read_port(p, "api.grpc.port");
    }
    api.grpc = g;
  }
  api.app_grpc.host = api.host;
  if (auto app = node["app_grpc"]; app && !app.IsNull()) {
    r.CheckKeys(app, "api.app_grpc", {"host", "port"});
    if (auto n = app["host"]) api.app_grpc.host = r.String(n, "api.app_grpc.host");
    if (auto p = app["port"]) api.app_grpc.port = read_port(p, "api.app_grpc.port");
  }
  if (auto n = node["threads"]) {
    // Bounded: int(4294967295) was -1 (one per core), and 100000000 threads cannot start.
    const uint64_t threads = r.Unsigned(n, "api.threads");
    if (threads > kMaxApiThreads) {
      r.Fail(n, "api.threads", "must be at most " + std::to_string(kMaxApiThreads));
    }
    api.threads = int(threads);
  }
  if (auto auth = node["auth"]) {
    r.CheckKeys(auth, "api.auth",
                {"jwt_secret", "jwt_public_key", "jwks_file", "audience", "issuer"});
    AuthConfig a;
    a.location = r.At(auth, "api.auth");
    if (auto n = auth["jwt_secret"]) a.jwt_secret = r.String(n, "api.auth.jwt_secret");
    if (auto n = auth["jwt_public_key"]) a.jwt_public_key = r.String(n, "api.auth.jwt_public_key");
    if (auto n = auth["jwks_file"]) a.jwks_file = r.String(n, "api.auth.jwks_file");
    if (auto n = auth["audience"]) a.audience = r.String(n, "api.auth.audience");
    if (auto n = auth["issuer"]) a.issuer = r.String(n, "api.auth.issuer");
    if (a.jwt_secret.empty() && a.jwt_public_key.empty() && a.jwks_file.empty()) {
      r.Fail(auth, "api.auth", "set jwt_secret, jwt_public_key or jwks_file (or remove auth)");
    }
    if (!a.jwt_secret.empty() && a.jwt_secret.size() < 32) {
      // Never echo the secret: only its length.
      r.Fail(auth["jwt_secret"], "api.auth.jwt_secret",
             "must be at least 32 bytes for HS256 (it has " + std::to_string(a.jwt_secret.size()) +
                 ")");
    }
    api.auth = std::move(a);
  }
  return api;
}

// "every_epoch" | "off" | a group-commit interval such as "50ms" or "1s".
int ReadFsync(const Reader& r, const YAML::Node& node) {
  const std::string s = r.String(node, "log.fsync");
  if (s == "every_epoch") return 0;
  if (s == "off") return -1;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  const std::string unit = s.substr(digits);
  if (digits > 0 && digits <= 7 && (unit == "ms" || unit == "s")) {
    // In 64 bits: "9999999s" is 9999999000 ms, beyond an int (signed overflow, found by
    // tests/fuzz/config_fuzz.cc under UBSan).
    const int64_t value = std::stoll(s.substr(0, digits)) * (unit == "s" ? 1000 : 1);
    if (value > 0 && value <= std::numeric_limits<int>::max()) return int(value);
  }
  r.Fail(node, "log.fsync",
         "expected every_epoch, off, or a group-commit interval like 50ms or 1s; got '" + s + "'");
}

LogConfig ReadLog(const Reader& r, const YAML::Node& node, const std::string& app_name) {
  LogConfig log;
  log.configured = true;
  log.location = r.At(node, "log");
  log.stream = "sluice_" + app_name;
  if (node.IsNull()) return log;
  r.CheckKeys(node, "log",
              {"kind", "fsync", "segment_bytes", "max_bytes", "max_age_seconds", "servers",
               "stream", "replicas"});
  if (auto n = node["kind"]) {
    log.kind = r.Enum<LogConfig::Kind>(
        n, "log.kind",
        {{"local", LogConfig::Kind::kLocal}, {"jetstream", LogConfig::Kind::kJetStream}});
  }
  if (auto n = node["fsync"]) log.fsync_interval_ms = ReadFsync(r, n);
  if (auto n = node["segment_bytes"]) {
    log.segment_bytes = r.Unsigned(n, "log.segment_bytes");
    if (log.segment_bytes < 4096) r.Fail(n, "log.segment_bytes", "must be at least 4096");
  }
  if (auto n = node["max_bytes"]) log.max_bytes = r.Unsigned(n, "log.max_bytes");
  if (auto n = node["max_age_seconds"]) log.max_age_seconds = r.Unsigned(n, "log.max_age_seconds");
  if (auto n = node["servers"]) log.servers = r.String(n, "log.servers");
  if (auto n = node["stream"]) {
    log.stream = r.String(n, "log.stream");
    const bool valid =
        !log.stream.empty() && std::all_of(log.stream.begin(), log.stream.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        });
    if (!valid) r.Fail(n, "log.stream", "a stream name uses letters, digits, '_' and '-' only");
  }
  if (auto n = node["replicas"]) {
    uint64_t replicas = r.Unsigned(n, "log.replicas");
    if (replicas < 1 || replicas > 5) r.Fail(n, "log.replicas", "must be between 1 and 5");
    log.replicas = int(replicas);
  }
  if (log.kind == LogConfig::Kind::kJetStream && log.servers.empty()) {
    r.Fail(node, "log.servers", "kind: jetstream needs servers, e.g. nats://127.0.0.1:4222");
  }
  if (log.kind == LogConfig::Kind::kLocal &&
      (node["servers"] || node["stream"] || node["replicas"])) {
    r.Fail(node, "log", "servers, stream and replicas belong to kind: jetstream");
  }
  return log;
}

template <typename T>
void RequireUniqueNames(const Reader& r, const YAML::Node& list, const std::vector<T>& items,
                        const std::string& what) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!seen.insert(items[i].name).second) {
      r.Fail(list[i], what + "[" + std::to_string(i) + "].name",
             "duplicate " + what + " name '" + items[i].name + "'");
    }
  }
}

Config Parse(const std::string& text, const std::string& file) {
  Reader r(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError{InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                                      std::to_string(e.mark.column + 1) +
                                      ": invalid YAML: " + e.msg)};
  }
  if (!root || root.IsNull()) throw ConfigError{InvalidArgument(file + ": config is empty")};
  r.CheckKeys(root, "",
              {"app_name", "home_dir", "log_level", "connections", "sources", "endpoints", "api",
               "sql", "sql_checkpoints", "log"});
  Config config;
  config.file = file;
  if (auto n = root["app_name"]) config.app_name = r.String(n, "app_name");
  if (auto n = root["home_dir"]) config.home_dir = r.String(n, "home_dir");
  if (auto n = root["sql_checkpoints"]) config.sql_checkpoints = r.Bool(n, "sql_checkpoints");
  if (auto n = root["log_level"]) {
    config.log_level = r.Enum<std::string>(n, "log_level",
                                           {{"trace", "trace"},
                                            {"debug", "debug"},
                                            {"info", "info"},
                                            {"warn", "warn"},
                                            {"error", "error"}});
  }
  auto read_list = [&](const char* key, auto reader, auto& out) {
    YAML::Node list = root[key];
    if (!list) return list;
    if (!list.IsSequence()) r.Fail(list, key, "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      out.push_back(reader(r, list[i], std::string(key) + "[" + std::to_string(i) + "]"));
    }
    return list;
  };
  YAML::Node connections = read_list("connections", ReadConnection, config.connections);
  YAML::Node sources = read_list("sources", ReadSource, config.sources);
  YAML::Node endpoints = read_list("endpoints", ReadEndpoint, config.endpoints);
  if (auto n = root["api"]) config.api = ReadApi(r, n);
  if (!root["api"]) config.api.app_grpc.host = config.api.host;
  if (auto n = root["log"]) config.log = ReadLog(r, n, config.app_name);
  if (!root["log"]) config.log.stream = "sluice_" + config.app_name;
  if (auto n = root["sql"]) {
    config.sql = r.String(n, "sql");
    // A block scalar (sql: |) starts on the line after its indicator.
    int line = n.Mark().line;
    size_t start = 0;
    for (int i = 0; i < line && start != std::string::npos; ++i) start = text.find('\n', start) + 1;
    size_t end = text.find('\n', start);
    std::string indicator_line = text.substr(start, end == std::string::npos ? end : end - start);
    bool block = indicator_line.find_first_of("|>", size_t(n.Mark().column)) != std::string::npos;
    config.sql_line = line + (block ? 2 : 1);
    if (block) {
      size_t first = end == std::string::npos ? text.size() : end + 1;
      size_t content = text.find_first_not_of(' ', first);
      config.sql_indent = content == std::string::npos ? 0 : int(content - first);
    } else {
      config.sql_indent = n.Mark().column;
    }
  }

  RequireUniqueNames(r, connections, config.connections, "connections");
  RequireUniqueNames(r, sources, config.sources, "sources");
  RequireUniqueNames(r, endpoints, config.endpoints, "endpoints");

  for (size_t i = 0; i < config.sources.size(); ++i) {
    const SourceConfig& s = config.sources[i];
    const ConnectionConfig* c = config.FindConnection(s.connection);
    std::string path = "sources[" + std::to_string(i) + "]";
    if (!c) {
      r.Fail(sources[i]["connection"], path + ".connection",
             "connection '" + s.connection + "' is not defined in connections");
    }
    if (c->kind == ConnectionKind::kGenerator && s.schema) {
      r.Fail(sources[i]["schema"], path + ".schema",
             "a generator source has a fixed schema; remove 'schema'");
    }
    if (c->kind == ConnectionKind::kPostgres && s.schema) {
      r.Fail(sources[i]["schema"], path + ".schema",
             "a postgres source takes its schema from the database; remove 'schema' (use "
             "'columns' to capture a subset)");
    }
    if (c->kind != ConnectionKind::kPostgres && !s.columns.empty()) {
      r.Fail(sources[i]["columns"], path + ".columns",
             "'columns' applies to postgres sources only");
    }
  }
  std::set<std::string> paths;
  for (size_t i = 0; i < config.endpoints.size(); ++i) {
    const EndpointConfig& e = config.endpoints[i];
    std::string path = "endpoints[" + std::to_string(i) + "]";
    if (!config.FindSource(e.table) && config.sql.empty()) {
      r.Fail(endpoints[i]["table"], path + ".table",
             "table '" + e.table + "' is not defined in sources");
    }
    if (!paths.insert(e.path).second) {
      r.Fail(endpoints[i]["path"], path + ".path", "path '" + e.path + "' is used twice");
    }
  }
  return config;
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& file) {
  ASSIGN_OR_RETURN(std::string substituted, SubstituteEnv(text, file, ProcessEnvLookup()));
  try {
    return Parse(substituted, file);
  } catch (const ConfigError& e) {
    return e.status;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return InvalidArgument("cannot read config: " + text.status().message());
  return ParseConfig(*text, path);
}

}  // namespace sluice
