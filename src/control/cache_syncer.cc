#include "control/cache_syncer.h"

namespace sluice {

CacheSyncer::CacheSyncer(CacheStore& store, std::chrono::milliseconds interval, Publish publish,
                         std::function<void(const Status&)> on_error)
    : store_(store),
      interval_(interval),
      publish_(std::move(publish)),
      on_error_(std::move(on_error)) {
  thread_ = std::thread([this] { Run(); });
}

CacheSyncer::~CacheSyncer() { (void)Finish(); }

void CacheSyncer::Committed(const std::vector<std::string>& positions) {
  std::lock_guard lock(mu_);
  committed_ = positions;
  dirty_ = true;
}

Status CacheSyncer::SyncAndPublish(std::unique_lock<std::mutex>& lock) {
  if (!dirty_) return Status::OK();
  std::vector<std::string> positions = committed_;  // committed before the sync starts
  dirty_ = false;
  lock.unlock();
  Status s = store_.Sync();
  if (s.ok()) {
    publish_(positions);
  } else {
    on_error_(s);
  }
  lock.lock();
  if (!s.ok() && error_.ok()) error_ = s;
  return s;
}

void CacheSyncer::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [&] { return stopping_; });
    if (stopping_) break;
    (void)SyncAndPublish(lock);
  }
}

Status CacheSyncer::Finish() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::unique_lock lock(mu_);
  (void)SyncAndPublish(lock);
  return error_;
}

}  // namespace sluice
