// Text forms of dates, timestamps and durations. Timestamps are UTC microseconds since the
// Unix epoch and are written as RFC 3339 ("2026-11-23T10:15:30.25Z"); durations are written as
// ISO 8601 ("PT1H30M0.5S") and read in either that form or as "1h30m", "250ms", "2d".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

Result<int64_t> ParseDate(std::string_view text);       // "YYYY-MM-DD" -> days
Result<int64_t> ParseTimestamp(std::string_view text);  // RFC 3339 / ISO 8601 -> micros (UTC)
Result<int64_t> ParseDuration(std::string_view text);   // -> micros

void AppendDate(int64_t days, std::string* out);
void AppendTimestamp(int64_t micros, std::string* out);
void AppendDuration(int64_t micros, std::string* out);
std::string FormatTimestamp(int64_t micros);

}  // namespace sluice
