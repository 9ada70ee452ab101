#include "control/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "cache/cache_store.h"
#include "common/file_util.h"
#include "connectors/postgres/postgres_capture.h"
#include "control/pipeline.h"
#include "control/progress.h"
#include "server/grpc/grpc_server.h"
#include "server/http/http_server.h"
#include "server/http/rest_api.h"

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

Status RunPipeline(const Config& config, const RunOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> pipeline, Pipeline::Build(config));
  RETURN_IF_ERROR(EnsureDirectory(config.home_dir));
  HomeLock lock;
  RETURN_IF_ERROR(lock.Acquire(config.home_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<CacheStore> store, CacheStore::Open(CacheDirectory(config)));
  const bool replay = pipeline->needs_full_replay();
  ASSIGN_OR_RETURN(bool rebuilt, store->DeclareTables(pipeline->TableDefinitions(), replay));
  ASSIGN_OR_RETURN(bool resumable, pipeline->CanResume(*store));
  if (replay) {
    spdlog::warn(
        "sql aggregates keep their state in memory until checkpoints exist (step 6): "
        "rebuilding the cache from the sources");
  } else if (!rebuilt && !resumable) {
    spdlog::warn(
        "a source cannot continue from where the cache stopped (an initial snapshot did not "
        "finish, or a table's rows cannot be reloaded): rebuilding the cache from the sources");
    RETURN_IF_ERROR(store->DeclareTables(pipeline->TableDefinitions(), true).status());
  } else if (rebuilt) {
    spdlog::info("cache in {} is new or its endpoint definitions changed: loading from the start",
                 CacheDirectory(config));
  } else {
    spdlog::info("cache in {} reopened; sources resume from their committed positions",
                 CacheDirectory(config));
  }

  RestApi api(config.app_name, *store, pipeline->RestEndpoints());
  HttpServerOptions http_options;
  http_options.host = config.api.host;
  http_options.port = config.api.rest_port;
  http_options.threads = config.api.threads;
  HttpServer server(api, http_options);
  RETURN_IF_ERROR(server.Start());
  spdlog::info("REST API listening on {}:{}", config.api.host, server.port());
  std::unique_ptr<GrpcServer> grpc;
  if (config.api.grpc) {
    grpc = std::make_unique<GrpcServer>(
        config.app_name, config.home_dir, *store, pipeline->RestEndpoints(),
        GrpcServerOptions{config.api.grpc->host, config.api.grpc->port});
    RETURN_IF_ERROR(grpc->Start());
    spdlog::info("gRPC API listening on {}:{} (typed services: {})", config.api.grpc->host,
                 grpc->port(), grpc->proto_path());
  }
  if (!options.port_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(options.port_file, std::to_string(server.port()) + "\n"));
  }
  RETURN_IF_ERROR(pipeline->Start(store.get()));

  Progress progress;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  bool reported_idle = false;
  while (true) {
    timespec tick{1, 0};
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      progress.Finish(pipeline->stats(), pipeline->elapsed_seconds());
      spdlog::info("received {}, stopping: committing what was received", strsignal(sig));
      break;
    }
    progress.Update(pipeline->stats());
    if (pipeline->idle() && !reported_idle) {
      reported_idle = true;
      progress.Finish(pipeline->stats(), pipeline->elapsed_seconds());
      spdlog::info("all sources are done; still serving (Ctrl-C to stop)");
    }
  }
  pipeline->RequestStop();
  Status pipeline_status = pipeline->Wait();
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
