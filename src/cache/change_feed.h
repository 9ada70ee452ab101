// ChangeFeed: hands every committed change of the cache to live subscribers (REST live
// routes, gRPC Subscribe) in commit order. The cache writer publishes after each commit, only
// for tables somebody subscribed to, so nobody pays for it otherwise.
//
// Each subscription has a bounded queue: a consumer that falls `max_pending` events behind is
// closed with a reason instead of growing memory. A subscriber that also wants the current
// rows opens its ReadView *after* subscribing and skips events with commit_txn <= the view's
// txn_id(): nothing is missed or doubled between the rows it read and the events.
//
// Thread-safety: Publish from the writer thread; Subscribe/Drain/Cancel from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice {

struct ChangeEvent {
  enum class Kind : uint8_t { kInsert, kUpdate, kDelete };
  Kind kind;
  uint64_t epoch = 0;       // the pipeline epoch this commit closed
  uint64_t commit_txn = 0;  // the LMDB transaction id of the commit
  std::string old_row;      // row codec bytes; empty for inserts
  std::string new_row;      // empty for deletes
};

class Subscription {
 public:
  // Takes everything queued so far (in commit order).
  std::vector<ChangeEvent> Drain();
  // Whether the feed closed this subscription (too slow, or the feed shut down), and why.
  bool closed() const;
  // Closed because the consumer fell more than max_pending changes behind.
  bool overflowed() const;
  std::string close_reason() const;
  uint32_t table() const { return table_; }

 private:
  friend class ChangeFeed;
  Subscription(uint32_t table, size_t max_pending, std::function<void()> wake)
      : table_(table), max_pending_(max_pending), wake_(std::move(wake)) {}
  const uint32_t table_;
  const size_t max_pending_;
  const std::function<void()> wake_;  // called (on the writer thread) when events arrive
  mutable std::mutex mu_;
  std::vector<ChangeEvent> pending_;
  bool closed_ = false;
  bool overflowed_ = false;
  std::string close_reason_;
};

class ChangeFeed {
 public:
  // `wake` is called after events were queued or the subscription closed; it must be cheap
  // and must not call back into the feed (post to the consumer's own loop).
  std::shared_ptr<Subscription> Subscribe(uint32_t table, size_t max_pending,
                                          std::function<void()> wake);
  void Unsubscribe(const std::shared_ptr<Subscription>& subscription);

  bool HasSubscribers(uint32_t table) const;
  // Held by the cache writer from deciding whom to tell about a commit until the commit is
  // done, and by a subscriber while it opens its snapshot view: so a commit is either seen by
  // that view or published to the subscriber, never neither.
  std::unique_lock<std::mutex> PauseCommits() const { return std::unique_lock(commit_mu_); }
  void Publish(uint32_t table, std::vector<ChangeEvent> events);
  // Closes every subscription (shutdown).
  void CloseAll(const std::string& reason);

 private:
  mutable std::mutex mu_;
  mutable std::mutex commit_mu_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  std::vector<uint32_t> subscribed_count_;  // per table, for HasSubscribers without locking much
};

}  // namespace sluice
