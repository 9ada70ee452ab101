#include "control/runner.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "cache/cache_store.h"
#include "cache/cache_versions.h"
#include "common/file_util.h"
#include "connectors/postgres/postgres_capture.h"
#include "control/api_servers.h"
#include "control/app_log.h"
#include "control/home_lock.h"
#include "control/pipeline.h"
#include "control/progress.h"
#include "control/serving_info.h"
#include "log/jetstream_log.h"
#include "server/grpc/log_server.h"

namespace sluice {

std::string CacheDirectory(const Config& config) { return config.home_dir + "/cache"; }

int WaitForStopSignal(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec tick{seconds.count(), long((timeout - seconds).count()) * 1000000};
  const int sig = sigtimedwait(&set, nullptr, &tick);
  return sig == SIGINT || sig == SIGTERM ? sig : 0;
}

void BlockStopSignals() {
  // A shell starts background jobs with SIGINT ignored; an ignored signal is never pending,
  // so restore the default action (harmless while blocked) before waiting for it.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

// Opens the current version to keep serving while a new one is built, if it can be.
std::shared_ptr<CacheStore> OpenForServing(std::unique_ptr<CacheStore> current,
                                           std::vector<RestEndpoint>* endpoints) {
  auto blob = current->GetMeta("serving");
  if (!blob.ok() || !*blob) return nullptr;
  auto info = DecodeServingInfo(**blob);
  if (!info.ok() || !current->AdoptTables(info->tables).ok()) {
    spdlog::warn("the current cache version cannot be served while rebuilding: {}",
                 info.ok() ? "its tables do not match" : info.status().message());
    return nullptr;
  }
  *endpoints = std::move(info->endpoints);
  return std::shared_ptr<CacheStore>(std::move(current));
}

std::string LogDirectory(const std::string& version) { return version + "/log"; }

}  // namespace

Status RunPipeline(const Config& config, const RunOptions& options) {
  if (options.mode == RunMode::kApi) return RunApiNode(config, options);
  const bool app_mode = options.mode == RunMode::kApp;
  // The app always keeps a change log (API nodes follow it); `sluice run` when `log:` says so.
  const bool logged = app_mode || config.log.configured;
  ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> pipeline, Pipeline::Build(config));
  RETURN_IF_ERROR(EnsureDirectory(config.home_dir));
  HomeLock lock;
  RETURN_IF_ERROR(lock.Acquire(config.home_dir));
  const std::vector<TableDefinition> definitions = pipeline->TableDefinitions();
  const std::vector<RestEndpoint> endpoints = pipeline->RestEndpoints();
  const std::string serving_info = EncodeServingInfo({definitions, endpoints});
  auto open_log = [&](const std::string& version, CacheStore& store) {
    return AppLog::Open(LogDirectory(version), store, config.log, serving_info,
                        pipeline->served_tables());
  };

  // Which cache version to fill, and which to serve meanwhile (cache/cache_versions.h).
  CacheVersions versions(CacheDirectory(config));
  ASSIGN_OR_RETURN(std::optional<std::string> current, versions.Current());
  RETURN_IF_ERROR(versions.RemoveAllExcept(current));  // half-built versions of earlier runs
  std::shared_ptr<CacheStore> store;
  std::unique_ptr<AppLog> log;
  std::shared_ptr<CacheStore> old_store;  // serves until `store` has caught up
  std::vector<RestEndpoint> old_endpoints;
  std::string building;  // the version being built beside the current one
  if (current) {
    ASSIGN_OR_RETURN(std::unique_ptr<CacheStore> opened, CacheStore::Open(*current));
    ASSIGN_OR_RETURN(bool same, opened->HoldsDefinitions(definitions));
    bool resumable = false;
    if (same) {
      RETURN_IF_ERROR(opened->DeclareTables(definitions).status());
      ASSIGN_OR_RETURN(resumable, pipeline->CanResume(*opened));
    }
    if (resumable && logged) {
      // The log must continue the cache (it redoes what the cache lacks).
      auto reopened = open_log(*current, *opened);
      if (!reopened.ok() && reopened.status().code() != StatusCode::kFailedPrecondition) {
        return reopened.status();
      }
      if (reopened.ok()) {
        log = std::move(*reopened);
      } else {
        spdlog::warn("{}: rebuilding the cache with a new change log", reopened.status().message());
        resumable = false;
      }
    }
    if (resumable) {
      spdlog::info("cache {} reopened; sources resume from their committed positions", *current);
      store = std::move(opened);
    } else {
      if (same) {
        spdlog::warn(
            "the sources cannot continue from where the cache stopped (an initial snapshot did "
            "not finish, a table's rows cannot be reloaded, the sql operators' checkpoints were "
            "made by another version, or the change log cannot continue it): rebuilding the "
            "cache");
      } else {
        spdlog::info("endpoint definitions changed: building a new cache version");
      }
      // The app serves no API: nothing to keep serving meanwhile.
      if (!app_mode) old_store = OpenForServing(std::move(opened), &old_endpoints);
      if (old_store) spdlog::info("{} keeps serving until the new version has caught up", *current);
    }
  }
  if (!store) {
    ASSIGN_OR_RETURN(building, versions.Create());
    ASSIGN_OR_RETURN(std::unique_ptr<CacheStore> created, CacheStore::Open(building));
    store = std::move(created);
    RETURN_IF_ERROR(store->DeclareTables(definitions, true).status());
    RETURN_IF_ERROR(store->PutMeta("serving", serving_info));
    if (logged) {
      RETURN_IF_ERROR(AppLog::StartGeneration(*store));
      ASSIGN_OR_RETURN(log, open_log(building, *store));
    }
    if (!old_store) {
      // Nothing to serve meanwhile: the new version is current from the start.
      RETURN_IF_ERROR(versions.Promote(building));
      RETURN_IF_ERROR(versions.RemoveAllExcept(building));
      building.clear();
    }
  }

  ApiServers servers(config);
  std::unique_ptr<LogServer> log_server;
  int announced_port = 0;
  if (app_mode) {
    log_server =
        std::make_unique<LogServer>(*log, config.api.app_grpc.host, config.api.app_grpc.port);
    RETURN_IF_ERROR(log_server->Start());
    spdlog::info("serving the change log to API nodes on {}:{} (generation {}, entry {})",
                 config.api.app_grpc.host, log_server->port(), log->generation(),
                 log->durable_seq());
    announced_port = log_server->port();
  } else {
    RETURN_IF_ERROR(old_store ? servers.Start(old_store, old_endpoints)
                              : servers.Start(store, endpoints));
    announced_port = servers.rest_port();
  }
  if (!options.port_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(options.port_file, std::to_string(announced_port) + "\n"));
  }
  // log.kind: jetstream — API nodes follow the stream the log is shipped into.
  std::unique_ptr<JetStreamShipper> shipper;
  if (log && config.log.kind == LogConfig::Kind::kJetStream) {
    shipper = std::make_unique<JetStreamShipper>(*log, config.log);
    shipper->Start();
  }
  pipeline->SetChangeLog(log.get());
  RETURN_IF_ERROR(pipeline->Start(store.get()));

  // Once the new version holds everything the sources had, it replaces the old one; the old
  // version's files go.
  auto switch_versions = [&]() -> Status {
    RETURN_IF_ERROR(store->Sync());
    RETURN_IF_ERROR(versions.Promote(building));
    RETURN_IF_ERROR(servers.Switch(
        store, endpoints,
        "the cache was rebuilt (new version " + building + "); reconnect to follow it"));
    old_store.reset();
    RETURN_IF_ERROR(versions.RemoveAllExcept(building));
    spdlog::info("cache version {} caught up and is now served", building);
    building.clear();
    return Status::OK();
  };

  Progress progress;
  bool reported_idle = false;
  Status switch_error;
  while (true) {
    int sig = WaitForStopSignal(std::chrono::seconds(1));
    if (sig != 0) {
      progress.Finish(pipeline->stats(), pipeline->elapsed_seconds());
      spdlog::info("received {}, stopping: committing what was received", strsignal(sig));
      break;
    }
    progress.Update(pipeline->stats());
    if (!building.empty() && old_store && pipeline->caught_up()) {
      switch_error = switch_versions();
      if (!switch_error.ok()) {
        spdlog::error("cannot switch to the new cache version: {}", switch_error.ToString());
        break;
      }
    }
    if (pipeline->idle() && !reported_idle) {
      reported_idle = true;
      progress.Finish(pipeline->stats(), pipeline->elapsed_seconds());
      spdlog::info("all sources are done; still serving (Ctrl-C to stop)");
    }
  }
  pipeline->RequestStop();
  Status pipeline_status = pipeline->Wait();
  if (pipeline_status.ok()) pipeline_status = switch_error;
  if (shipper) shipper->Stop();
  if (log_server) log_server->Stop();
  servers.Stop();
  for (const auto& s : pipeline->stats()) {
    spdlog::info("source {}: {} rows committed{}", s.name, s.committed_rows,
                 s.failed ? " (failed, see above)" : "");
  }
  return pipeline_status;
}

Status CleanHome(const Config& config) {
  for (const ConnectionConfig& c : config.connections) {
    if (c.kind == ConnectionKind::kPostgres) RETURN_IF_ERROR(CleanPostgres(config, c));
  }
  std::error_code ec;
  std::filesystem::remove_all(CacheDirectory(config), ec);
  if (ec) return IoError("cannot remove " + CacheDirectory(config) + ": " + ec.message());
  std::filesystem::remove(config.home_dir + "/LOCK", ec);
  std::filesystem::remove(config.home_dir, ec);  // only if now empty
  return Status::OK();
}

}  // namespace sluice
