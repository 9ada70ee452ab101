// Process-wide structured logging on top of spdlog. Call InitLogging once from main; modules
// then log through spdlog's default logger (spdlog::info(...)), which is thread-safe.
#pragma once

#include <string_view>

namespace sluice {

// level: trace|debug|info|warn|error. Logs go to stderr with a timestamp and thread id.
void InitLogging(std::string_view level);

}  // namespace sluice
