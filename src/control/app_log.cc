#include "control/app_log.h"

#include <spdlog/spdlog.h>

#include <random>
#include <sstream>

#include "common/file_util.h"
#include "control/log_entry.h"

namespace sluice {
namespace {

constexpr const char* kGenerationMeta = "log_generation";

std::string NewGeneration() {
  std::random_device random;
  char text[33];
  snprintf(text, sizeof text, "%08x%08x%08x%08x", random(), random(), random(), random());
  return text;
}

}  // namespace

Status AppLog::StartGeneration(CacheStore& store) {
  return store.PutMeta(kGenerationMeta, NewGeneration());
}

Result<bool> AppLog::HasGeneration(const CacheStore& store) {
  ASSIGN_OR_RETURN(std::optional<std::string> generation, store.GetMeta(kGenerationMeta));
  return generation.has_value();
}

Result<std::unique_ptr<AppLog>> AppLog::Open(const std::string& dir, CacheStore& store,
                                             const LogConfig& config, std::string serving_info,
                                             uint32_t served_tables) {
  ASSIGN_OR_RETURN(std::optional<std::string> generation, store.GetMeta(kGenerationMeta));
  if (!generation) {
    return FailedPrecondition("the cache in " + dir + "/.. was written without a change log");
  }
  ChangeLogOptions options;
  options.segment_bytes = config.segment_bytes;
  options.max_bytes = config.max_bytes;
  options.max_age_seconds = config.max_age_seconds;
  auto log = std::unique_ptr<AppLog>(new AppLog());
  log->config_ = config;
  log->dir_ = dir;
  log->generation_ = *generation;
  log->serving_info_ = std::move(serving_info);
  log->served_tables_ = served_tables;
  ASSIGN_OR_RETURN(log->log_, ChangeLog::Open(dir, options));
  ASSIGN_OR_RETURN(std::optional<std::string> seq, store.GetMeta(kLogSeqMeta));
  const uint64_t applied = seq ? std::stoull(*seq) : 0;
  RETURN_IF_ERROR(log->Redo(store, applied));
  log->appended_ = log->log_->last_seq();
  log->durable_ = log->appended_;
  log->last_sync_ = std::chrono::steady_clock::now();
  if (auto followers = ReadFile(dir + "/followers"); followers.ok()) {
    std::istringstream in(*followers);
    std::string name;
    uint64_t at;
    while (in >> name >> at) log->followers_[name] = at;
  }
  return log;
}

Status AppLog::Redo(CacheStore& store, uint64_t applied) {
  const uint64_t last = log_->last_seq();
  if (last < applied) {
    return FailedPrecondition("the change log in " + dir_ + " ends at entry " +
                              std::to_string(last) + " but the cache applied entry " +
                              std::to_string(applied) +
                              " (entries were lost, e.g. a machine crash with log.fsync off)");
  }
  if (applied + 1 < log_->first_seq() && last >= log_->first_seq()) {
    return FailedPrecondition("the change log in " + dir_ + " starts after the cache's entry " +
                              std::to_string(applied));
  }
  if (last == applied) return Status::OK();
  Status failed;
  RETURN_IF_ERROR(log_->Read(applied + 1, last, [&](uint64_t seq, std::string_view payload) {
    auto batch = DecodeLogEntry(payload);
    failed = batch.ok() ? store.Commit(*batch) : batch.status();
    if (!failed.ok())
      failed = failed.WithContext("redoing change log entry " + std::to_string(seq));
    return failed.ok();
  }));
  RETURN_IF_ERROR(failed);
  spdlog::info("redid {} epoch(s) from the change log that the cache had not committed",
               last - applied);
  return Status::OK();
}

Result<bool> AppLog::Append(CommitBatch& batch) {
  const uint64_t seq = appended_ + 1;
  batch.meta.emplace_back(kLogSeqMeta, std::to_string(seq));
  ASSIGN_OR_RETURN(uint64_t appended, log_->Append(EncodeLogEntry(batch, served_tables_)));
  if (appended != seq) return Internal("change log appended entry " + std::to_string(appended));
  appended_ = seq;
  if (config_.fsync_interval_ms < 0) {
    Publish(seq);  // durability left to the OS
    return false;
  }
  return SyncIfDue(config_.fsync_interval_ms == 0);
}

Result<bool> AppLog::SyncIfDue(bool force) {
  if (config_.fsync_interval_ms < 0) return false;
  {
    std::lock_guard lock(mu_);
    if (durable_ == appended_) return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_sync_ < std::chrono::milliseconds(config_.fsync_interval_ms)) {
    return false;
  }
  RETURN_IF_ERROR(log_->Sync());
  last_sync_ = now;
  Publish(appended_);
  return true;
}

void AppLog::Publish(uint64_t durable) {
  {
    std::lock_guard lock(mu_);
    durable_ = durable;
  }
  grew_.notify_all();
}

Status AppLog::ApplyRetention() {
  if (config_.max_bytes == 0 && config_.max_age_seconds == 0) return Status::OK();
  uint64_t applied_by_all = appended_;
  std::string persisted;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, seq] : followers_) {
      applied_by_all = std::min(applied_by_all, seq);
      persisted += name + " " + std::to_string(seq) + "\n";
    }
  }
  // Followers are remembered before anything they still need could go.
  RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/followers", persisted));
  ASSIGN_OR_RETURN(size_t dropped, log_->ApplyRetention(applied_by_all));
  if (dropped > 0) {
    spdlog::info("change log retention removed {} segment(s); it now starts at entry {}", dropped,
                 log_->first_seq());
  }
  return Status::OK();
}

uint64_t AppLog::durable_seq() const {
  std::lock_guard lock(mu_);
  return durable_;
}

uint64_t AppLog::WaitBeyond(uint64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  grew_.wait_for(lock, timeout, [&] { return durable_ > after; });
  return durable_;
}

Status AppLog::Read(uint64_t from, uint64_t to,
                    const std::function<bool(uint64_t seq, std::string_view entry)>& visit) {
  {
    std::lock_guard lock(mu_);
    to = std::min(to, durable_);
  }
  if (from > to) return Status::OK();
  Status failed;
  RETURN_IF_ERROR(log_->Read(from, to, [&](uint64_t seq, std::string_view payload) {
    auto served = ServedPrefix(payload);
    if (!served.ok()) {
      failed = served.status().WithContext("change log entry " + std::to_string(seq));
      return false;
    }
    return visit(seq, *served);
  }));
  return failed;
}

void AppLog::Applied(const std::string& follower, uint64_t seq) {
  std::lock_guard lock(mu_);
  uint64_t& at = followers_[follower];
  at = std::max(at, seq);
}

}  // namespace sluice
