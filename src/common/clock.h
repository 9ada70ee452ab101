// Wall-clock helpers (token lifetimes are Unix seconds).
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

inline int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sluice
