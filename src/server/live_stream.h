// LiveStream: one live subscription to an endpoint, independent of the transport (REST's
// WebSocket and Server-Sent Events, gRPC Subscribe). It subscribes to the cache's change feed
// first, then (optionally) reads the current matching rows from a read view opened after
// that, and from then on yields every committed change whose commit the view did not see, so
// nothing is missed or doubled at the seam. Changes are filtered: an update whose old row
// matched and new row does not reaches the client as a delete, the reverse as an insert.
//
// Memory is bounded: the feed queues at most `max_pending` changes for a subscriber; one that
// falls further behind is closed with a reason (see ChangeFeed).
// Thread-safety: the wake callback runs on the cache writer's thread; everything else must be
// called from one consumer thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "cache/change_feed.h"
#include "cache/query_spec.h"
#include "common/status.h"
#include "server/endpoint.h"

namespace sluice {

struct LiveMessage {
  enum class Kind { kSnapshotRow, kSnapshotEnd, kInsert, kUpdate, kDelete };
  Kind kind;
  uint64_t epoch = 0;
  std::string old_row = {};  // row codec bytes (updates and deletes)
  std::string new_row = {};  // snapshot rows, inserts and updates
};

class LiveStream {
 public:
  struct Options {
    bool snapshot = true;
    size_t max_pending = 10000;
    size_t snapshot_batch = 500;  // rows per Next() call while the snapshot lasts
  };

  static Result<std::unique_ptr<LiveStream>> Open(const CacheStore& store,
                                                  const RestEndpoint& endpoint, FilterNode filter,
                                                  const Options& options,
                                                  std::function<void()> wake);
  ~LiveStream();

  // The next messages in order (empty when nothing is pending: wait for `wake`).
  // An error means the subscription ended (the message says why: e.g. too slow).
  Result<std::vector<LiveMessage>> Next();

 private:
  LiveStream(const CacheStore& store, const RestEndpoint& endpoint, FilterNode filter,
             const Options& options);
  Status ReadSnapshotBatch(std::vector<LiveMessage>* out);
  void FilterEvent(ChangeEvent event, std::vector<LiveMessage>* out) const;

  const CacheStore& store_;
  const RestEndpoint& endpoint_;
  const FilterNode filter_;
  const Options options_;
  std::shared_ptr<Subscription> subscription_;
  std::optional<ReadView> snapshot_view_;
  std::optional<std::string> snapshot_cursor_;
  bool snapshot_done_ = false;
  uint64_t seen_txn_ = 0;  // commits up to this one are in the snapshot
};

}  // namespace sluice
