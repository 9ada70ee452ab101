// LogFeed: what an app offers the API nodes that follow its change log — the log's identity,
// how to serve its tables, and its durable entries as they arrive. The gRPC log service
// (server/grpc/log_service.h) serves one; control/app_log.h implements it over a ChangeLog.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

class LogFeed {
 public:
  virtual ~LogFeed() = default;
  // Names this log's history: a new cache version starts a new generation, and an API node
  // whose cache followed another generation must rebuild it.
  virtual std::string generation() const = 0;
  // The tables and endpoints to serve (control/serving_info.h, encoded).
  virtual std::string serving_info() const = 0;
  // The oldest entry still held (retention removes entries every follower applied).
  virtual uint64_t first_seq() const = 0;
  // The newest entry followers may read.
  virtual uint64_t durable_seq() const = 0;
  // Waits until an entry after `after` is durable, at most `timeout`; returns the last durable
  // sequence number.
  virtual uint64_t WaitBeyond(uint64_t after, std::chrono::milliseconds timeout) = 0;
  // Visits the served part (control/log_entry.h) of durable entries [from, to] in order;
  // OutOfRange when retention removed `from`.
  virtual Status Read(uint64_t from, uint64_t to,
                      const std::function<bool(uint64_t seq, std::string_view entry)>& visit) = 0;
  // A follower reports that its cache holds every entry up to `seq`.
  virtual void Applied(const std::string& follower, uint64_t seq) = 0;
};

}  // namespace sluice
