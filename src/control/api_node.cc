// `sluice run api`: an API node. It follows an app's change log (gRPC, or JetStream with
// log.kind: jetstream), applies each entry's served part to its own cache — one LMDB
// transaction per entry, recording the entry's sequence number (meta log_seq) in the same
// transaction — and serves every API over that cache. After a restart it resumes after the
// stored sequence number; when the app's log is of another generation (the app rebuilt its
// cache), the node builds a new cache version from the new log while the old one keeps serving,
// and switches once it has caught up.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>

#include "cache/cache_versions.h"
#include "common/file_util.h"
#include "common/stop_wait.h"
#include "control/api_servers.h"
#include "control/home_lock.h"
#include "control/log_entry.h"
#include "control/runner.h"
#include "control/serving_info.h"
#include "log/jetstream_log.h"
#include "server/grpc/log_client.h"

namespace sluice {
namespace {

constexpr const char* kGenerationMeta = "follow_generation";
constexpr auto kSyncInterval = std::chrono::seconds(1);
constexpr auto kRetryInterval = std::chrono::milliseconds(500);

// One cache version and what it follows.
struct FollowedCache {
  std::string dir;
  std::shared_ptr<CacheStore> store;
  std::vector<RestEndpoint> endpoints;
  std::string generation;
  uint64_t applied = 0;  // last log entry the cache holds
};

Result<FollowedCache> OpenFollowed(const std::string& dir) {
  FollowedCache cache;
  cache.dir = dir;
  ASSIGN_OR_RETURN(std::unique_ptr<CacheStore> store, CacheStore::Open(dir));
  ASSIGN_OR_RETURN(std::optional<std::string> blob, store->GetMeta("serving"));
  ASSIGN_OR_RETURN(std::optional<std::string> generation, store->GetMeta(kGenerationMeta));
  if (!blob || !generation) return FailedPrecondition(dir + " was never filled from a log");
  ASSIGN_OR_RETURN(ServingInfo info, DecodeServingInfo(*blob));
  RETURN_IF_ERROR(store->DeclareTables(info.tables).status());
  ASSIGN_OR_RETURN(std::optional<std::string> seq, store->GetMeta(kLogSeqMeta));
  cache.store = std::move(store);
  cache.endpoints = std::move(info.endpoints);
  cache.generation = *generation;
  cache.applied = seq ? std::stoull(*seq) : 0;
  return cache;
}

class ApiNode {
 public:
  ApiNode(const Config& config, const RunOptions& options, std::string home)
      : config_(config),
        options_(options),
        home_(std::move(home)),
        versions_(home_ + "/cache"),
        servers_(config) {}

  Status Open() {
    ASSIGN_OR_RETURN(std::optional<std::string> current, versions_.Current());
    RETURN_IF_ERROR(versions_.RemoveAllExcept(current));
    if (current) {
      auto opened = OpenFollowed(*current);
      if (opened.ok()) {
        serving_ = std::move(*opened);
        spdlog::info("cache {} holds the app's log up to entry {}; resuming after it", serving_.dir,
                     serving_.applied);
        RETURN_IF_ERROR(StartServers());
      } else {
        spdlog::warn("cache {} cannot be resumed ({}); building a new one from the log", *current,
                     opened.status().message());
      }
    }
    if (config_.log.kind == LogConfig::Kind::kJetStream) {
      follower_ = MakeJetStreamFollower(config_.log, FollowerName());
    } else {
      follower_ = MakeGrpcLogFollower(options_.app_address, FollowerName());
    }
    return Status::OK();
  }

  // Follows until `stop`; returns a fatal error (a cache write failure).
  Status Run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      Status s = follower_->Follow(
          Target().generation, Target().applied + 1, stop,
          [&](const FollowHeader& h) { return OnHeader(h); },
          [&](uint64_t seq, std::string_view entry) { return OnEntry(seq, entry); });
      if (stop.stop_requested()) break;
      if (s.code() == StatusCode::kIoError || s.code() == StatusCode::kInternal) return s;
      // Once per outage and reason, not at every retry.
      if (s.message() != last_error_) {
        if (s.code() == StatusCode::kUnavailable) {
          spdlog::warn("lost {} ({}); still serving the cache, retrying", follower_->describe(),
                       s.message());
        } else {
          spdlog::error("cannot follow {}: {}; still serving the cache, retrying",
                        follower_->describe(), s.message());
        }
        last_error_ = s.message();
      }
      connected_ = false;
      SleepUnlessStopped(stop, kRetryInterval);
    }
    Status synced = SyncAndAck(true);
    return synced;
  }

  void Stop() { servers_.Stop(); }

 private:
  std::string FollowerName() const {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + home_;
  }
  FollowedCache& Target() { return building_.store ? building_ : serving_; }

  Status StartServers() {
    if (servers_started_) return Status::OK();
    RETURN_IF_ERROR(servers_.Start(serving_.store, serving_.endpoints));
    servers_started_ = true;
    if (!options_.port_file.empty()) {
      RETURN_IF_ERROR(
          WriteFileAtomically(options_.port_file, std::to_string(servers_.rest_port()) + "\n"));
    }
    return Status::OK();
  }

  Status OnHeader(const FollowHeader& header) {
    if (Target().store && header.generation == Target().generation) {
      if (!connected_) {
        spdlog::info("following {} from entry {}", follower_->describe(), Target().applied + 1);
      }
      connected_ = true;
      last_error_.clear();
      return Status::OK();
    }
    // A new log (or none followed yet): a new cache version from its first entry.
    if (header.first_seq > 1) {
      return FailedPrecondition(follower_->describe() + " no longer holds the log's first " +
                                "entries (retention), so this node cannot build its cache");
    }
    ASSIGN_OR_RETURN(ServingInfo info, DecodeServingInfo(header.serving_info));
    building_ = {};
    ASSIGN_OR_RETURN(building_.dir, versions_.Create());
    ASSIGN_OR_RETURN(std::unique_ptr<CacheStore> store, CacheStore::Open(building_.dir));
    RETURN_IF_ERROR(store->DeclareTables(info.tables, true).status());
    RETURN_IF_ERROR(store->PutMeta("serving", header.serving_info));
    RETURN_IF_ERROR(store->PutMeta(kGenerationMeta, header.generation));
    building_.store = std::move(store);
    building_.endpoints = std::move(info.endpoints);
    building_.generation = header.generation;
    catch_up_to_ = header.last_seq;
    spdlog::info("building cache {} from {} (log generation {}, {} entries so far)", building_.dir,
                 follower_->describe(), header.generation, header.last_seq);
    connected_ = true;
    last_error_.clear();
    return catch_up_to_ == 0 ? PromoteBuilding() : Status::OK();
  }

  Status OnEntry(uint64_t seq, std::string_view entry) {
    FollowedCache& target = Target();
    if (seq != target.applied + 1) {
      return DataLoss("the log skipped from entry " + std::to_string(target.applied) + " to " +
                      std::to_string(seq));
    }
    ASSIGN_OR_RETURN(CommitBatch batch, DecodeLogEntry(entry));
    batch.positions.clear();
    batch.state.clear();
    batch.meta = {{kLogSeqMeta, std::to_string(seq)}};
    Status committed = target.store->Commit(batch);
    if (!committed.ok())
      return IoError("cannot apply log entry " + std::to_string(seq) + ": " + committed.message());
    target.applied = seq;
    if (building_.store && seq >= catch_up_to_) RETURN_IF_ERROR(PromoteBuilding());
    return SyncAndAck(false);
  }

  Status PromoteBuilding() {
    RETURN_IF_ERROR(building_.store->Sync());
    RETURN_IF_ERROR(versions_.Promote(building_.dir));
    const bool had_old = serving_.store != nullptr;
    serving_ = std::move(building_);
    building_ = {};
    acked_ = 0;  // numbers of the new log from here on
    if (servers_started_) {
      RETURN_IF_ERROR(
          servers_.Switch(serving_.store, serving_.endpoints,
                          "the app rebuilt its cache; reconnect to follow the new one"));
    } else {
      RETURN_IF_ERROR(StartServers());
    }
    RETURN_IF_ERROR(versions_.RemoveAllExcept(serving_.dir));
    spdlog::info("cache {} caught up with the log{} and is now served", serving_.dir,
                 had_old ? " (the previous version is gone)" : "");
    return Status::OK();
  }

  // Syncs the served cache once a second and tells the log what is durable here.
  Status SyncAndAck(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!serving_.store || (!force && now - last_sync_ < kSyncInterval)) return Status::OK();
    if (serving_.applied == acked_) return Status::OK();
    last_sync_ = now;
    RETURN_IF_ERROR(serving_.store->Sync());
    acked_ = serving_.applied;
    // While a new generation is being built, the served cache's numbers belong to the old log.
    if (!building_.store) follower_->Applied(acked_);
    return Status::OK();
  }

  const Config& config_;
  const RunOptions& options_;
  std::string home_;
  CacheVersions versions_;
  ApiServers servers_;
  bool servers_started_ = false;
  std::unique_ptr<LogFollower> follower_;
  FollowedCache serving_;   // what the APIs serve (empty until a first version exists)
  FollowedCache building_;  // a new version being filled from a new log generation
  uint64_t catch_up_to_ = 0;
  bool connected_ = false;
  std::string last_error_;  // of the current outage, logged once
  uint64_t acked_ = 0;
  std::chrono::steady_clock::time_point last_sync_;
};

}  // namespace

Status RunApiNode(const Config& config, const RunOptions& options) {
  const std::string home = options.home_dir.empty() ? config.home_dir + "/api" : options.home_dir;
  if (config.log.kind != LogConfig::Kind::kJetStream && options.app_address.empty()) {
    return InvalidArgument(
        "sluice run api needs --app host:port (the app's api.app_grpc), or "
        "log: {kind: jetstream, ...} in the config");
  }
  RETURN_IF_ERROR(EnsureDirectory(home));
  HomeLock lock;
  RETURN_IF_ERROR(lock.Acquire(home));
  ApiNode node(config, options, home);
  RETURN_IF_ERROR(node.Open());
  std::stop_source stop;
  Status result;
  std::atomic<bool> ended{false};
  std::thread follower([&] {
    result = node.Run(stop.get_token());
    if (!result.ok()) spdlog::error("the API node stops: {}", result.message());
    ended = true;
  });
  while (!ended) {
    int sig = WaitForStopSignal(std::chrono::milliseconds(200));
    if (sig != 0) {
      spdlog::info("received {}, stopping", strsignal(sig));
      break;
    }
  }
  stop.request_stop();
  follower.join();
  node.Stop();
  return result;
}

}  // namespace sluice
