// CacheSyncer: makes the cache durable in the background. The cache commits without fsync
// (LMDB MDB_NOSYNC) so commits stay cheap and fresh; this thread fsyncs every interval and then
// publishes the source positions that were committed before the fsync began — those, and only
// those, may be acknowledged to sources (a PostgreSQL slot's flush LSN). An fsync of a large
// cache can take hundreds of milliseconds; on its own thread it never delays a commit.
// Thread-safety: Committed() is called by the cache writer; the publish callback runs on the
// syncer's thread (or in Finish()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache_store.h"
#include "common/status.h"

namespace sluice {

class CacheSyncer {
 public:
  using Publish = std::function<void(const std::vector<std::string>& durable_positions)>;
  // `on_error` is told of a failed sync at once (the pipeline stops on it).
  CacheSyncer(CacheStore& store, std::chrono::milliseconds interval, Publish publish,
              std::function<void(const Status&)> on_error);
  ~CacheSyncer();

  // The positions (one per source) the last commit left in the cache.
  void Committed(const std::vector<std::string>& positions);
  // Stops the thread and syncs what was committed; returns the first sync error, if any.
  Status Finish();

 private:
  void Run();
  Status SyncAndPublish(std::unique_lock<std::mutex>& lock);

  CacheStore& store_;
  const std::chrono::milliseconds interval_;
  Publish publish_;
  std::function<void(const Status&)> on_error_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::string> committed_;
  bool dirty_ = false;
  bool stopping_ = false;
  Status error_;
  std::thread thread_;
};

}  // namespace sluice
