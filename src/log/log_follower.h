// LogFollower: how an API node reads an app's change log — over the app's gRPC log service
// (server/grpc/log_client.h) or from a JetStream stream (log/jetstream_log.h). The node
// applies each entry's served part (control/log_entry.h) to its own cache.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

struct FollowHeader {
  std::string generation;    // LogFeed::generation()
  std::string serving_info;  // LogFeed::serving_info()
  uint64_t first_seq = 1;    // the oldest entry the log still holds
  uint64_t last_seq = 0;     // the newest durable entry when following began
};

class LogFollower {
 public:
  virtual ~LogFollower() = default;
  // Follows the log from `from_seq` — or from its first entry when the log is not of
  // `generation` (a new log to build a new cache from): `on_header` once, then `on_entry` for
  // every entry in order, live, until `stop` is requested (OK), a callback fails (its status)
  // or the connection is lost (Unavailable: call again).
  virtual Status Follow(
      const std::string& generation, uint64_t from_seq, std::stop_token stop,
      const std::function<Status(const FollowHeader&)>& on_header,
      const std::function<Status(uint64_t seq, std::string_view entry)>& on_entry) = 0;
  // Tells the log that this node's cache durably holds every entry up to `seq` (retention).
  virtual void Applied(uint64_t seq) = 0;
  // For messages: "the app at 127.0.0.1:50053", "JetStream stream sluice_shop".
  virtual std::string describe() const = 0;
};

}  // namespace sluice
