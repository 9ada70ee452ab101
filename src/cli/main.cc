// The `sluice` command: run [app|api] | init | check | clean | token | version.
// Exit codes: 0 success (also after a graceful stop), 2 bad config or usage, 1 other failures.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "cli/starter_config.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "config/config.h"
#include "control/auth_setup.h"
#include "control/pipeline.h"
#include "control/runner.h"

namespace sluice {
namespace {

constexpr const char* kVersion = "0.1.0";

int ExitCode(const Status& s) {
  if (s.ok()) return 0;
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

int Fail(const Status& s) {
  spdlog::error("{}", s.message());
  return ExitCode(s);
}

int Run(const std::string& config_path, const RunOptions& options, const std::string& log_level) {
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  spdlog::set_level(spdlog::level::from_str(log_level.empty() ? config->log_level : log_level));
  Status s = RunPipeline(*config, options);
  if (!s.ok()) return Fail(s);
  return 0;
}

int Check(const std::string& config_path) {
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  auto pipeline = Pipeline::Build(*config);
  if (!pipeline.ok()) return Fail(pipeline.status());
  std::cout << config_path << " is valid.\n\n" << (*pipeline)->Describe();
  return 0;
}

int Init(const std::string& config_path) {
  if (std::filesystem::exists(config_path)) {
    spdlog::error("{} already exists; not overwriting it", config_path);
    return 2;
  }
  Status s = WriteFileAtomically(config_path, kStarterConfig);
  if (!s.ok()) return Fail(s);
  std::cout << "wrote " << config_path << "; start it with: sluice run -c " << config_path << "\n";
  return 0;
}

int Token(const std::string& config_path, const std::string& access, const std::string& ttl,
          const std::string& subject) {
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  auto token = MakeToken(*config, access, ttl, subject);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  return 0;
}

int Clean(const std::string& config_path) {
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  Status s = CleanHome(*config);
  if (!s.ok()) return Fail(s);
  std::cout << "removed the data under " << config->home_dir << "\n";
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  using namespace sluice;
  BlockStopSignals();  // before any thread exists, so all threads inherit the mask
  InitLogging("info");

  CLI::App app{"Sluice: live data APIs from your databases, files and streams"};
  app.require_subcommand(1);
  std::string config_path = "sluice.yaml";
  std::string log_level;
  RunOptions run_options;

  auto* run = app.add_subcommand("run", "run the pipelines and serve the APIs");
  std::string role;
  run->add_option("role", role,
                  "app: connectors, SQL and the change log only, served to API nodes; api: a "
                  "cache built from an app's log, and the APIs (default: everything)")
      ->check(CLI::IsMember({"app", "api"}));
  run->add_option("-c,--config", config_path, "config file")->capture_default_str();
  run->add_option("--log-level", log_level, "trace|debug|info|warn|error (overrides the config)");
  run->add_option("--port-file", run_options.port_file,
                  "write the REST port (app: the log port) here once listening (useful with "
                  "port 0)");
  run->add_option("--app", run_options.app_address,
                  "api: host:port of the app's api.app_grpc to follow");
  run->add_option("--home-dir", run_options.home_dir,
                  "api: this node's cache directory (default <home_dir>/api)");
  auto* init = app.add_subcommand("init", "write a starter config that runs as is");
  init->add_option("-c,--config", config_path, "file to create")->capture_default_str();
  auto* check = app.add_subcommand("check", "validate a config and print the pipeline");
  check->add_option("-c,--config", config_path, "config file")->capture_default_str();
  auto* clean = app.add_subcommand("clean", "remove the data under home_dir");
  clean->add_option("-c,--config", config_path, "config file")->capture_default_str();
  std::string access = "all", ttl = "1h", subject;
  auto* token = app.add_subcommand("token", "print a JWT signed with api.auth.jwt_secret");
  token->add_option("-c,--config", config_path, "config file")->capture_default_str();
  token->add_option("--access", access, "all, or a JSON access claim (docs/auth.md)")
      ->capture_default_str();
  token->add_option("--ttl", ttl, "lifetime, e.g. 15m, 1h, 7d")->capture_default_str();
  token->add_option("--subject", subject, "the token's sub claim");
  app.add_subcommand("version", "print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*run) {
    run_options.mode = role == "app"   ? RunMode::kApp
                       : role == "api" ? RunMode::kApi
                                       : RunMode::kAll;
    if (run_options.mode != RunMode::kApi &&
        (!run_options.app_address.empty() || !run_options.home_dir.empty())) {
      spdlog::error("--app and --home-dir belong to `sluice run api`");
      return 2;
    }
    return Run(config_path, run_options, log_level);
  }
  if (*init) return Init(config_path);
  if (*check) return Check(config_path);
  if (*clean) return Clean(config_path);
  if (*token) return Token(config_path, access, ttl, subject);
  std::cout << "sluice " << kVersion << "\n";
  return 0;
}
