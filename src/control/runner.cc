#include "control/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "cache/cache_store.h"
#include "cache/cache_versions.h"
#include "common/file_util.h"
#include "connectors/postgres/postgres_capture.h"
#include "control/auth_setup.h"
#include "control/pipeline.h"
#include "control/progress.h"
#include "control/serving_info.h"
#include "server/grpc/grpc_server.h"
#include "server/http/http_server.h"
#include "server/http/rest_api.h"
#include "server/http/served_api.h"

namespace sluice {
namespace {

// Holds an exclusive lock on <home_dir>/LOCK so two processes never write one cache.
class HomeLock {
 public:
  ~HomeLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& home) {
    std::string path = home + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return ErrnoError("cannot open", path, errno);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return FailedPrecondition("another sluice process is using home_dir " + home + " (lock " +
                                path + " is held)");
    }
    return Status::OK();
  }

 private:
  int fd_ = -1;
};

}  // namespace

std::string CacheDirectory(const Config& config) { return config.home_dir + "/cache"; }

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

// A cache version together with the REST API over it; REST requests and live streams hold
// it (through ServedApi's shared pointers) while they use it.
struct ServingVersion {
  std::shared_ptr<CacheStore> store;
  std::vector<RestEndpoint> endpoints;
  std::shared_ptr<const Authenticator> authenticator;  // null without api.auth; gRPC shares it
  std::unique_ptr<RestApi> api;
};

// `authenticator` receives the version's authenticator (null without api.auth), for gRPC.
Result<std::shared_ptr<const RestApi>> ServeVersion(
    const Config& config, std::shared_ptr<CacheStore> store, std::vector<RestEndpoint> endpoints,
    std::shared_ptr<const Authenticator>* authenticator) {
  auto version = std::make_shared<ServingVersion>();
  version->store = std::move(store);
  version->endpoints = std::move(endpoints);
  ASSIGN_OR_RETURN(version->authenticator, MakeAuthenticator(config, version->endpoints));
  RestAuth auth;
  auth.authenticator = version->authenticator.get();
  if (config.api.auth) {
    auth.secret = config.api.auth->jwt_secret;
    auth.audience = config.api.auth->audience;
    auth.issuer = config.api.auth->issuer;
  }
  version->api = std::make_unique<RestApi>(config.app_name, *version->store, version->endpoints,
                                           std::move(auth));
  *authenticator = version->authenticator;
  return std::shared_ptr<const RestApi>(version, version->api.get());
}

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

}  // namespace

Status RunPipeline(const Config& config, const RunOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> pipeline, Pipeline::Build(config));
  RETURN_IF_ERROR(EnsureDirectory(config.home_dir));
  HomeLock lock;
  RETURN_IF_ERROR(lock.Acquire(config.home_dir));
  const std::vector<TableDefinition> definitions = pipeline->TableDefinitions();
  const std::vector<RestEndpoint> endpoints = pipeline->RestEndpoints();

  // Which cache version to fill, and which to serve meanwhile (cache/cache_versions.h).
  CacheVersions versions(CacheDirectory(config));
  ASSIGN_OR_RETURN(std::optional<std::string> current, versions.Current());
  RETURN_IF_ERROR(versions.RemoveAllExcept(current));  // half-built versions of earlier runs
  std::shared_ptr<CacheStore> store;
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
    if (resumable) {
      spdlog::info("cache {} reopened; sources resume from their committed positions", *current);
      store = std::move(opened);
    } else {
      if (same) {
        spdlog::warn(
            "the sources cannot continue from where the cache stopped (an initial snapshot did "
            "not finish, a table's rows cannot be reloaded, or the sql operators' checkpoints "
            "were made by another version): rebuilding the cache");
      } else {
        spdlog::info("endpoint definitions changed: building a new cache version");
      }
      old_store = OpenForServing(std::move(opened), &old_endpoints);
      if (old_store) spdlog::info("{} keeps serving until the new version has caught up", *current);
    }
  }
  if (!store) {
    ASSIGN_OR_RETURN(building, versions.Create());
    ASSIGN_OR_RETURN(std::unique_ptr<CacheStore> created, CacheStore::Open(building));
    store = std::move(created);
    RETURN_IF_ERROR(store->DeclareTables(definitions, true).status());
    RETURN_IF_ERROR(store->PutMeta("serving", EncodeServingInfo({definitions, endpoints})));
    if (!old_store) {
      // Nothing to serve meanwhile: the new version is current from the start.
      RETURN_IF_ERROR(versions.Promote(building));
      RETURN_IF_ERROR(versions.RemoveAllExcept(building));
      building.clear();
    }
  }

  // The served version's authenticator, kept for the gRPC server (declared before it, so it
  // outlives it) and replaced only once the server of the previous version stopped.
  std::shared_ptr<const Authenticator> grpc_authenticator;
  ASSIGN_OR_RETURN(std::shared_ptr<const RestApi> first_api,
                   old_store ? ServeVersion(config, old_store, old_endpoints, &grpc_authenticator)
                             : ServeVersion(config, store, endpoints, &grpc_authenticator));
  ServedApi served(std::move(first_api));
  HttpServerOptions http_options;
  http_options.host = config.api.host;
  http_options.port = config.api.rest_port;
  http_options.threads = config.api.threads;
  HttpServer server(served, http_options);
  RETURN_IF_ERROR(server.Start());
  spdlog::info("REST API listening on {}:{}", config.api.host, server.port());
  std::unique_ptr<GrpcServer> grpc;
  auto start_grpc = [&](const CacheStore& serving,
                        const std::vector<RestEndpoint>& served_endpoints, int port) -> Status {
    grpc = std::make_unique<GrpcServer>(
        config.app_name, config.home_dir, serving, served_endpoints,
        GrpcServerOptions{config.api.grpc->host, port, grpc_authenticator.get()});
    RETURN_IF_ERROR(grpc->Start());
    spdlog::info("gRPC API listening on {}:{} (typed services: {})", config.api.grpc->host,
                 grpc->port(), grpc->proto_path());
    return Status::OK();
  };
  if (config.api.grpc) {
    RETURN_IF_ERROR(old_store ? start_grpc(*old_store, old_endpoints, config.api.grpc->port)
                              : start_grpc(*store, endpoints, config.api.grpc->port));
  }
  if (!options.port_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(options.port_file, std::to_string(server.port()) + "\n"));
  }
  RETURN_IF_ERROR(pipeline->Start(store.get()));

  // Once the new version holds everything the sources had, it replaces the old one: REST
  // atomically, gRPC by restarting on its port; live subscribers of the old one are told to
  // reconnect; the old version's files go.
  auto switch_versions = [&]() -> Status {
    RETURN_IF_ERROR(store->Sync());
    RETURN_IF_ERROR(versions.Promote(building));
    std::shared_ptr<const Authenticator> new_authenticator;
    ASSIGN_OR_RETURN(std::shared_ptr<const RestApi> new_api,
                     ServeVersion(config, store, endpoints, &new_authenticator));
    served.Set(std::move(new_api));
    if (grpc) {
      const int port = grpc->port();
      grpc->Stop();
      grpc_authenticator = std::move(new_authenticator);
      RETURN_IF_ERROR(start_grpc(*store, endpoints, port));
    }
    old_store->feed().CloseAll("the cache was rebuilt (new version " + building +
                               "); reconnect to follow it");
    old_store.reset();
    RETURN_IF_ERROR(versions.RemoveAllExcept(building));
    spdlog::info("cache version {} caught up and is now served", building);
    building.clear();
    return Status::OK();
  };

  Progress progress;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  bool reported_idle = false;
  Status switch_error;
  while (true) {
    timespec tick{1, 0};
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
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
  if (grpc) grpc->Stop();
  server.Stop();
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
