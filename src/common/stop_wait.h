// SleepUnlessStopped: waits `interval`, or less when a stop is requested meanwhile — for
// polling and retry loops on threads that must end promptly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace sluice {

inline void SleepUnlessStopped(const std::stop_token& stop, std::chrono::milliseconds interval) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, interval, [] { return false; });
}

}  // namespace sluice
