// The config loader (src/config, docs/config.md): ${ENV} / ${ENV:-default} substitution on
// the raw text, YAML parsing (yaml-cpp) and validation into a Config.
//
// Input: a mode byte, then the text. 'e' runs SubstituteEnv alone (with a fixed lookup:
// A=alpha, EMPTY=""); 'l' writes the text to a file and loads it with LoadConfig; anything
// else is ParseConfig(text, "fuzz.yaml").
// Contracts: every error is InvalidArgument naming the file ("fuzz.yaml:..."); no exception
// escapes (yaml-cpp throws); a loaded config is valid as documented: unique names, sources on
// defined connections, endpoints on defined tables (unless `sql:`) with distinct paths that
// start with '/', ports in range, fsync intervals positive, 1..5 replicas, no negative thread
// count; LoadConfig and ParseConfig agree.
#include <fstream>
#include <set>

#include "config/config.h"
#include "config/env_substitution.h"
#include "fuzz_support.h"

namespace sluice::fuzz::config {
namespace {

void CheckConfig(const Config& c, std::string_view text, const std::string& ctx) {
  std::set<std::string> names, paths;
  for (const ConnectionConfig& conn : c.connections) {
    FUZZ_CHECK(!conn.name.empty() && names.insert("c:" + conn.name).second, ctx);
    if (conn.kind == ConnectionKind::kPostgres) {
      FUZZ_CHECK(conn.postgres.port >= 0 && conn.postgres.port <= 65535, ctx);
      FUZZ_CHECK(!conn.postgres.url.empty() || !conn.postgres.host.empty(), ctx);
    }
    if (conn.kind == ConnectionKind::kFiles) FUZZ_CHECK(!conn.files.path.empty(), ctx);
  }
  for (const SourceConfig& s : c.sources) {
    FUZZ_CHECK(!s.name.empty() && names.insert("s:" + s.name).second, ctx);
    FUZZ_CHECK(c.FindConnection(s.connection) != nullptr, "dangling source: " + ctx);
  }
  for (const EndpointConfig& e : c.endpoints) {
    FUZZ_CHECK(!e.name.empty() && names.insert("e:" + e.name).second, ctx);
    FUZZ_CHECK(e.path.size() >= 2 && e.path[0] == '/' && e.path.back() != '/', ctx);
    FUZZ_CHECK(paths.insert(e.path).second, ctx);
    FUZZ_CHECK(!c.sql.empty() || c.FindSource(e.table) != nullptr, "dangling endpoint: " + ctx);
    for (const IndexConfig& i : e.indexes) FUZZ_CHECK(i.fields.empty() != i.full_text.empty(), ctx);
  }
  FUZZ_CHECK(c.api.rest_port >= 0 && c.api.rest_port <= 65535, ctx);
  if (c.api.grpc) FUZZ_CHECK(c.api.grpc->port >= 0 && c.api.grpc->port <= 65535, ctx);
  FUZZ_CHECK(c.api.threads >= 0, "api.threads " + std::to_string(c.api.threads) + ": " + ctx);
  FUZZ_CHECK(c.log.fsync_interval_ms >= -1,
             "log.fsync " + std::to_string(c.log.fsync_interval_ms) + ": " + ctx);
  FUZZ_CHECK(c.log.replicas >= 1 && c.log.replicas <= 5, ctx);
  if (c.api.auth) {
    const AuthConfig& a = *c.api.auth;
    FUZZ_CHECK(!a.jwt_secret.empty() || !a.jwt_public_key.empty() || !a.jwks_file.empty(), ctx);
    FUZZ_CHECK(a.jwt_secret.empty() || a.jwt_secret.size() >= 32, ctx);
  }
  if (!c.sql.empty()) FUZZ_CHECK(c.sql_line >= 1 && c.sql_indent >= 0, ctx);
}

void CheckError(const Status& s, const std::string& file, const std::string& ctx) {
  FUZZ_CHECK(s.code() == StatusCode::kInvalidArgument, Describe(s) + " for " + ctx);
  FUZZ_CHECK(s.message().starts_with(file), "error names no file: " + Describe(s));
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const char mode = in.empty() ? 'p' : in[0];
  if (!in.empty()) in.remove_prefix(1);
  const std::string text(in);
  const std::string ctx = std::string(1, mode) + " " + Printable(text);
  if (mode == 'e') {
    auto lookup = [](const std::string& name) -> std::optional<std::string> {
      if (name == "A") return "alpha";
      if (name == "EMPTY") return "";
      return std::nullopt;
    };
    auto out = SubstituteEnv(text, "fuzz.yaml", lookup);
    if (!out.ok()) return CheckError(out.status(), "fuzz.yaml:", ctx), 0;
    if (text.find('$') == std::string::npos) FUZZ_CHECK(*out == text, ctx);
    return 0;
  }
  if (mode == 'l') {
    static const std::string path = ScratchDir("config") + "/fuzz.yaml";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    auto loaded = LoadConfig(path);
    auto parsed = ParseConfig(text, path);
    FUZZ_CHECK(loaded.ok() == parsed.ok(), "LoadConfig and ParseConfig disagree: " + ctx);
    if (!loaded.ok()) {
      FUZZ_CHECK(loaded.status().message() == parsed.status().message(), ctx);
      return CheckError(loaded.status(), path, ctx), 0;
    }
    CheckConfig(*loaded, text, ctx);
    return 0;
  }
  auto config = ParseConfig(text, "fuzz.yaml");
  if (!config.ok()) return CheckError(config.status(), "fuzz.yaml", ctx), 0;
  CheckConfig(*config, text, ctx);
  return 0;
}

}  // namespace sluice::fuzz::config
