// RateLimitedLog: says how often a repeated event happened, at most once per interval, so a
// condition that recurs thousands of times a second (refused connections, failed accepts)
// cannot flood the log. Tick() counts one event and returns the count to report when a line
// is due (the first event, then once per interval), nullopt otherwise. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace sluice {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  std::optional<uint64_t> Tick() {
    std::lock_guard lock(mu_);
    ++pending_;
    const auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval_) return std::nullopt;
    logged_once_ = true;
    last_ = now;
    const uint64_t n = pending_;
    pending_ = 0;
    return n;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t pending_ = 0;
  bool logged_once_ = false;
};

}  // namespace sluice
