#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "config/env_substitution.h"

namespace sluice {
namespace {

constexpr const char* kValid = R"(app_name: shop
home_dir: /tmp/x
connections:
  - name: gen
    kind: generator
    events: 100
    rate: 0
    seed: 7
  - name: local
    kind: files
    path: ./data
    format: jsonl
    on_error: skip
sources:
  - name: bid
    connection: gen
  - name: products
    connection: local
    table: products
    schema:
      - {name: id, type: int, nullable: false}
      - {name: title, type: string}
    primary_key: [id]
endpoints:
  - name: products
    path: /products
    table: products
    primary_key: [id]
api:
  host: 127.0.0.1
  rest: {port: 9999}
)";

TEST(Config, ParsesTheDocumentedFormat) {
  auto c = ParseConfig(kValid, "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->app_name, "shop");
  ASSERT_EQ(c->connections.size(), 2u);
  EXPECT_EQ(c->connections[0].generator.events, 100u);
  EXPECT_EQ(c->connections[0].generator.seed, 7u);
  EXPECT_EQ(c->connections[1].files.format, FileFormat::kJsonl);
  EXPECT_EQ(c->connections[1].files.on_error, OnError::kSkip);
  EXPECT_EQ(c->sources[0].table, "bid");  // defaults to the name
  ASSERT_TRUE(c->sources[1].schema.has_value());
  EXPECT_EQ((*c->sources[1].schema)[0].type, FieldType::kInt);
  EXPECT_FALSE((*c->sources[1].schema)[0].nullable);
  EXPECT_TRUE((*c->sources[1].schema)[1].nullable);
  EXPECT_EQ(c->endpoints[0].primary_key, std::vector<std::string>{"id"});
  EXPECT_EQ(c->api.rest_port, 9999);
  EXPECT_EQ(c->sources[1].location.line, 17);
}

TEST(Config, SqlCheckpointsDefaultOnAndCanBeTurnedOff) {
  auto c = ParseConfig(kValid, "sluice.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->sql_checkpoints);
  c = ParseConfig(std::string(kValid) + "sql_checkpoints: false\n", "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->sql_checkpoints);
  c = ParseConfig(std::string(kValid) + "sql_checkpoints: sometimes\n", "sluice.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("sql_checkpoints"), std::string::npos);
}

TEST(Config, LogAndAppGrpcDefaultsAndChoices) {
  auto c = ParseConfig(kValid, "sluice.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->log.configured);
  EXPECT_EQ(c->log.fsync_interval_ms, 0);
  EXPECT_EQ(c->log.stream, "sluice_shop");
  EXPECT_EQ(c->api.app_grpc.host, "127.0.0.1");  // follows api.host
  EXPECT_EQ(c->api.app_grpc.port, 50053);
  c = ParseConfig(std::string(kValid) + "  app_grpc: {port: 7000}\nlog: {fsync: 50ms}\n",
                  "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api.app_grpc.port, 7000);
  EXPECT_TRUE(c->log.configured);
  EXPECT_EQ(c->log.fsync_interval_ms, 50);
  c = ParseConfig(std::string(kValid) +
                      "log: {kind: jetstream, servers: 'nats://127.0.0.1:4222', fsync: off, "
                      "replicas: 3}\n",
                  "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log.kind, LogConfig::Kind::kJetStream);
  EXPECT_EQ(c->log.fsync_interval_ms, -1);
  EXPECT_EQ(c->log.replicas, 3);
  for (const auto& [yaml, message] : std::vector<std::pair<std::string, std::string>>{
           {"log: {fsync: sometimes}", "log.fsync: expected every_epoch, off, or a group-commit"},
           {"log: {kind: jetstream}", "kind: jetstream needs servers"},
           {"log: {servers: 'nats://x:1'}", "belong to kind: jetstream"},
           {"log: {kind: jetstream, servers: 'nats://x:1', stream: 'a.b'}", "log.stream"},
           {"log: {segment_bytes: 10}", "at least 4096"}}) {
    auto bad = ParseConfig(std::string(kValid) + yaml + "\n", "sluice.yaml");
    ASSERT_FALSE(bad.ok()) << yaml;
    EXPECT_NE(bad.status().message().find(message), std::string::npos) << bad.status().message();
  }
}

// Replaces the first occurrence of `from` in the valid config and expects an error message
// containing `expected`.
void ExpectError(const std::string& from, const std::string& to, const std::string& expected) {
  std::string text = kValid;
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  auto c = ParseConfig(text, "sluice.yaml");
  ASSERT_FALSE(c.ok()) << "accepted: " << to;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(expected), std::string::npos) << c.status().message();
}

TEST(Config, PostgresConnection) {
  const std::string pg = R"(connections:
  - name: pg
    kind: postgres
    url: postgres://u:p@127.0.0.1:5432/shop?sslmode=prefer
    publication: pub_1
    slot: slot_1
    snapshot: never
sources:
  - {name: orders, connection: pg, table: public.orders, columns: [id, total]}
endpoints:
  - {name: orders, path: /orders, table: orders}
)";
  auto c = ParseConfig(pg, "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const PostgresOptions& o = c->connections[0].postgres;
  EXPECT_EQ(c->connections[0].kind, ConnectionKind::kPostgres);
  EXPECT_EQ(o.url, "postgres://u:p@127.0.0.1:5432/shop?sslmode=prefer");
  EXPECT_EQ(o.publication, "pub_1");
  EXPECT_EQ(o.slot, "slot_1");
  EXPECT_FALSE(o.snapshot);
  EXPECT_EQ(c->sources[0].columns, (std::vector<std::string>{"id", "total"}));

  auto expect_error = [&](const std::string& from, const std::string& to,
                          const std::string& expected) {
    std::string text = pg;
    text.replace(text.find(from), from.size(), to);
    auto bad = ParseConfig(text, "sluice.yaml");
    ASSERT_FALSE(bad.ok()) << to;
    EXPECT_NE(bad.status().message().find(expected), std::string::npos) << bad.status().message();
  };
  expect_error("url: postgres://", "url: mysql://", "connections[0].url: expected a URL starting");
  expect_error("    url: postgres://u:p@127.0.0.1:5432/shop?sslmode=prefer\n", "",
               "connections[0]: a postgres connection needs 'url' or 'host'");
  expect_error("slot: slot_1", "slot: Bad-Slot", "connections[0].slot: 'Bad-Slot' is not a valid");
  expect_error("snapshot: never", "snapshot: sometimes",
               "connections[0].snapshot: unknown value 'sometimes' (expected initial | never)");
  expect_error("snapshot: never", "port: 70000", "connections[0].port: expected a port");
  expect_error("columns: [id, total]", "schema: [{name: id, type: int}]",
               "a postgres source takes its schema from the database");
  expect_error("kind: postgres", "kind: files\n    path: ./x\n    url2: y", "unknown key 'url2'");
}

TEST(Config, ErrorsNameFileLineAndKey) {
  ExpectError("app_name: shop", "app_nme: shop",
              "sluice.yaml:1:1: app_nme: unknown key 'app_nme' at top level (did you mean "
              "'app_name'?)");
  ExpectError("    events: 100", "    events: many",
              "sluice.yaml:6:13: connections[0].events: expected a non-negative integer, got "
              "'many'");
  ExpectError("kind: files", "kind: ftp",
              "sluice.yaml:10:11: connections[1].kind: unknown value 'ftp' (expected generator | "
              "files | postgres)");
  ExpectError("    connection: gen", "    connection: nope",
              "sluice.yaml:16:17: sources[0].connection: connection 'nope' is not defined");
  ExpectError("    table: products\n    primary_key: [id]\napi",
              "    table: prods\n    "
              "primary_key: [id]\napi",
              "sluice.yaml:27:12: endpoints[0].table: table 'prods' is not defined in sources");
  ExpectError("type: int", "type: integer",
              "sluice.yaml:21:26: sources[1].schema[0].type: "
              "unknown type 'integer'");
  ExpectError("format: jsonl", "format: xml", "connections[1].format: unknown value 'xml'");
  ExpectError("    primary_key: [id]\nendpoints", "    primary_key: [sku]\nendpoints",
              "sources[1].primary_key: column 'sku' is not in the schema");
  ExpectError("path: /products", "path: products", "endpoints[0].path: must start with '/'");
  ExpectError("path: /products", "path: /health", "'/health' is reserved");
  ExpectError("rest: {port: 9999}", "rest: {port: 99999}", "api.rest.port: must be between");
  ExpectError("rest: {port: 9999}", "rest: {prot: 9999}", "unknown key 'prot' in api.rest");
  ExpectError("  - name: local", "  - name: gen", "connections[1].name: duplicate connections");
  ExpectError("home_dir: /tmp/x", "home_dir: [1", "invalid YAML");
  ExpectError("    seed: 7", "    seed: 7\n    path: /x", "unknown key 'path' in connections[0]");
}

TEST(Config, AuthNeedsAKeyAndALongEnoughSecret) {
  std::string text = kValid;
  text.replace(text.find("  rest: {port: 9999}"), 20,
               "  rest: {port: 9999}\n  auth:\n    jwt_secret: " + std::string(40, 'k') +
                   "\n    audience: sluice\n");
  auto c = ParseConfig(text, "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->api.auth.has_value());
  EXPECT_EQ(c->api.auth->audience, "sluice");
  EXPECT_EQ(c->api.auth->jwt_secret.size(), 40u);
  ExpectError("rest: {port: 9999}", "rest: {port: 9999}\n  auth: {audience: x}",
              "sluice.yaml:32:9: api.auth: set jwt_secret, jwt_public_key or jwks_file (or "
              "remove auth)");
  auto short_secret = ParseConfig(
      std::string(kValid).replace(std::string(kValid).find("  rest: {port: 9999}"), 20,
                                  "  rest: {port: 9999}\n  auth: {jwt_secret: tooshortsecret}"),
      "sluice.yaml");
  ASSERT_FALSE(short_secret.ok());
  EXPECT_NE(short_secret.status().message().find("at least 32 bytes for HS256 (it has 14)"),
            std::string::npos)
      << short_secret.status().message();
  EXPECT_EQ(short_secret.status().message().find("tooshortsecret"), std::string::npos);
}

TEST(Config, GrpcIsServedOnlyWhenConfigured) {
  auto plain = ParseConfig(kValid, "sluice.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->api.grpc.has_value());

  std::string text = kValid;
  text.replace(text.find("  rest: {port: 9999}"), 20, "  rest: {port: 9999}\n  grpc: {port: 0}");
  auto c = ParseConfig(text, "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->api.grpc.has_value());
  EXPECT_EQ(c->api.grpc->port, 0);
  EXPECT_EQ(c->api.grpc->host, "127.0.0.1");  // api.host unless given

  text = kValid;
  text.replace(text.find("  rest: {port: 9999}"), 20,
               "  rest: {port: 9999}\n  grpc:\n    host: ::1\n");
  c = ParseConfig(text, "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api.grpc->host, "::1");
  EXPECT_EQ(c->api.grpc->port, 50051);

  ExpectError("rest: {port: 9999}", "rest: {port: 9999}\n  grpc: {port: 70000}",
              "sluice.yaml:32:16: api.grpc.port: must be between 0 and 65535");
  ExpectError("rest: {port: 9999}", "rest: {port: 9999}\n  grpc: {prt: 1}",
              "sluice.yaml:32:10: api.grpc.prt: unknown key 'prt' in api.grpc (did you mean "
              "'port'?)");
  ExpectError("rest: {port: 9999}", "rest: {port: 9999}\n  grpc: [1]",
              "sluice.yaml:32:9: api.grpc: expected a mapping");
}

// Found by tests/fuzz/config_fuzz.cc: "9999999s" overflowed an int (undefined behaviour) and
// threads: 4294967295 became -1; both are refused now.
TEST(Config, OutOfRangeFsyncAndThreadsAreRefused) {
  auto parse = [](const std::string& tail) {
    return ParseConfig(std::string(kValid) + tail, "s.yaml");
  };
  auto ok = parse("  threads: 1024\nlog: {fsync: 2147483s}\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->api.threads, 1024);
  EXPECT_EQ(ok->log.fsync_interval_ms, 2147483000);
  for (const char* tail : {"log: {fsync: 9999999s}\n", "log: {fsync: 2147484s}\n"}) {
    auto c = parse(tail);
    ASSERT_FALSE(c.ok()) << tail;
    EXPECT_NE(c.status().message().find("log.fsync"), std::string::npos) << c.status().ToString();
  }
  for (const char* tail : {"  threads: 1025\n", "  threads: 4294967295\n"}) {
    auto c = parse(tail);
    ASSERT_FALSE(c.ok()) << tail;
    EXPECT_NE(c.status().message().find("api.threads: must be at most 1024"), std::string::npos)
        << c.status().ToString();
  }
}

TEST(Config, EmptyAndUnreadableFiles) {
  EXPECT_FALSE(ParseConfig("", "a.yaml").ok());
  auto missing = LoadConfig("/nonexistent/sluice.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/sluice.yaml"), std::string::npos);
}

TEST(EnvSubstitution, ReplacesVariablesAndDefaults) {
  EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "PORT") return "8081";
    if (n == "EMPTY") return "";
    return std::nullopt;
  };
  EXPECT_EQ(*SubstituteEnv("port: ${PORT}", "f", env), "port: 8081");
  EXPECT_EQ(*SubstituteEnv("a: ${MISSING:-x y}", "f", env), "a: x y");
  EXPECT_EQ(*SubstituteEnv("a: ${EMPTY:-d}", "f", env), "a: d");
  EXPECT_EQ(*SubstituteEnv("a: $${PORT} $5", "f", env), "a: ${PORT} $5");
  auto missing = SubstituteEnv("a: 1\nb: ${NOPE}", "f.yaml", env);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("f.yaml:2: environment variable NOPE is not set"),
            std::string::npos);
  EXPECT_FALSE(SubstituteEnv("a: ${OPEN", "f", env).ok());
}

TEST(Config, SubstitutesProcessEnvironment) {
  setenv("SLUICE_TEST_PORT", "7777", 1);
  std::string text = kValid;
  text.replace(text.find("9999"), 4, "${SLUICE_TEST_PORT}");
  auto c = ParseConfig(text, "sluice.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api.rest_port, 7777);
}

}  // namespace
}  // namespace sluice
