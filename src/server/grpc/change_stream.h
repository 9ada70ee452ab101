// ChangeStream: the gRPC side of a Subscribe call over the transport-independent LiveStream
// (server/live_stream.h: subscribe first, snapshot from a view opened after, filtered changes
// with updates leaving or entering the filter as deletes or inserts). It renders each message
// with the call's contract (JSON events of sluice.v1, or typed events of an endpoint service)
// and says how the call ends: a subscription the feed closed (the consumer fell more than
// max_pending changes behind) ends it with RESOURCE_EXHAUSTED and the feed's reason.
//
// Thread-safety: Next()/end() from one thread at a time (the call's lock); `wake` is called on
// the cache writer's thread when changes arrive or the feed closes the subscription, and must
// only schedule a Next() elsewhere.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_store.h"
#include "cache/query_spec.h"
#include "common/status.h"
#include "server/endpoint.h"
#include "server/live_stream.h"

namespace sluice::grpc_api {

// Numbered as the ChangeKind enums of both contracts.
enum class StreamEventKind : int { kInsert = 1, kUpdate = 2, kDelete = 3, kSnapshotComplete = 4 };

struct StreamEvent {
  StreamEventKind kind = StreamEventKind::kInsert;
  uint64_t epoch = 0;
  std::string_view old_row = {};  // row codec bytes; empty when absent
  std::string_view new_row = {};
  bool snapshot = false;
};

// Serializes one event as the call's response message.
using EventRenderer = std::function<Result<std::string>(const StreamEvent&)>;

class ChangeStream {
 public:
  static constexpr size_t kMaxPending = 10000;

  static Result<std::unique_ptr<ChangeStream>> Open(const CacheStore& store,
                                                    const RestEndpoint& endpoint, FilterNode filter,
                                                    bool snapshot, EventRenderer render,
                                                    std::function<void()> wake,
                                                    size_t max_pending = kMaxPending);
  ~ChangeStream() = default;  // unsubscribes

  // The next message to send, or nullopt when none is ready now.
  Result<std::optional<std::string>> Next();
  // Whether Next() has a message ready without looking at the feed (for write coalescing).
  bool has_ready() const { return !ready_.empty(); }
  // Once the feed closed the subscription and every message before was taken: why, as the
  // status to end the call with (RESOURCE_EXHAUSTED for a consumer that fell behind).
  const std::optional<Status>& end() const { return end_; }

 private:
  ChangeStream(std::unique_ptr<LiveStream> live, EventRenderer render)
      : live_(std::move(live)), render_(std::move(render)) {}
  Status Refill();

  std::unique_ptr<LiveStream> live_;
  const EventRenderer render_;
  std::deque<std::string> ready_;
  std::optional<Status> end_;
};

}  // namespace sluice::grpc_api
