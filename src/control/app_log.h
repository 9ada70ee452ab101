// AppLog: the change log of one cache version (<version>/log), written by the pipeline's cache
// writer and followed by API nodes (it is their LogFeed).
//
// Write-ahead order: each epoch's commit is appended to the log (and fsynced, per
// log.fsync) before it is committed to the cache, and the cache records the entry's sequence
// number (meta log_seq) in the same transaction. Open() therefore finds the log at or ahead of
// the cache and redoes what the cache lacks (an epoch logged just before a crash). A log behind
// the cache, or one of another generation, cannot continue the cache: Open() says so and the
// caller rebuilds.
//
// Thread-safety: Append/SyncIfDue/Finish on the writer thread; the LogFeed side from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cache/cache_store.h"
#include "config/config.h"
#include "log/change_log.h"
#include "log/log_feed.h"

namespace sluice {

class AppLog final : public LogFeed {
 public:
  // For a cache version just created: stores a new generation in `store`.
  static Status StartGeneration(CacheStore& store);
  // Whether `store` was written together with a change log (else it must be rebuilt to get one).
  static Result<bool> HasGeneration(const CacheStore& store);

  // Opens `dir`, checks it continues `store`, redoes the entries the store lacks. A log that
  // cannot continue the store is FailedPrecondition (rebuild the cache).
  static Result<std::unique_ptr<AppLog>> Open(const std::string& dir, CacheStore& store,
                                              const LogConfig& config, std::string serving_info,
                                              uint32_t served_tables);

  // Writer side. Adds the entry's sequence number to `batch.meta` and appends it; syncs when
  // log.fsync asks for it. Returns true when everything appended is now durable.
  Result<bool> Append(CommitBatch& batch);
  // Group commit: syncs once the interval since the last sync has passed (or `force`) and
  // something is unsynced. Returns true when it synced.
  Result<bool> SyncIfDue(bool force);
  // Whether log.fsync makes commits durable (else the cache's own sync does).
  bool syncs() const { return config_.fsync_interval_ms >= 0; }
  // Drops segments every follower and the cache applied (log.max_bytes / max_age_seconds).
  Status ApplyRetention();

  // LogFeed.
  std::string generation() const override { return generation_; }
  std::string serving_info() const override { return serving_info_; }
  uint64_t first_seq() const override { return log_->first_seq(); }
  uint64_t durable_seq() const override;
  uint64_t WaitBeyond(uint64_t after, std::chrono::milliseconds timeout) override;
  Status Read(uint64_t from, uint64_t to,
              const std::function<bool(uint64_t seq, std::string_view entry)>& visit) override;
  void Applied(const std::string& follower, uint64_t seq) override;

 private:
  AppLog() = default;
  Status Redo(CacheStore& store, uint64_t applied);
  void Publish(uint64_t durable);

  LogConfig config_;
  std::unique_ptr<ChangeLog> log_;
  std::string dir_;
  std::string generation_;
  std::string serving_info_;
  uint32_t served_tables_ = 0;
  std::chrono::steady_clock::time_point last_sync_;
  uint64_t appended_ = 0;  // last appended sequence (writer thread)

  mutable std::mutex mu_;
  std::condition_variable grew_;
  uint64_t durable_ = 0;                       // followers may read up to here
  std::map<std::string, uint64_t> followers_;  // follower -> applied; persisted in dir/followers
};

}  // namespace sluice
