#include "cache/change_feed.h"

#include <algorithm>
#include <utility>

namespace sluice {

std::vector<ChangeEvent> Subscription::Drain() {
  std::lock_guard lock(mu_);
  return std::exchange(pending_, {});
}

bool Subscription::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

bool Subscription::overflowed() const {
  std::lock_guard lock(mu_);
  return overflowed_;
}

std::string Subscription::close_reason() const {
  std::lock_guard lock(mu_);
  return close_reason_;
}

std::shared_ptr<Subscription> ChangeFeed::Subscribe(uint32_t table, size_t max_pending,
                                                    std::function<void()> wake) {
  std::shared_ptr<Subscription> subscription(new Subscription(table, max_pending, std::move(wake)));
  std::lock_guard lock(mu_);
  subscriptions_.push_back(subscription);
  if (subscribed_count_.size() <= table) subscribed_count_.resize(table + 1, 0);
  ++subscribed_count_[table];
  return subscription;
}

void ChangeFeed::Unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  std::lock_guard lock(mu_);
  auto it = std::find(subscriptions_.begin(), subscriptions_.end(), subscription);
  if (it == subscriptions_.end()) return;
  --subscribed_count_[subscription->table()];
  subscriptions_.erase(it);
}

bool ChangeFeed::HasSubscribers(uint32_t table) const {
  std::lock_guard lock(mu_);
  return table < subscribed_count_.size() && subscribed_count_[table] > 0;
}

void ChangeFeed::Publish(uint32_t table, std::vector<ChangeEvent> events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : subscriptions_) {
      if (s->table() == table) targets.push_back(s);
    }
  }
  for (const auto& s : targets) {
    {
      std::lock_guard lock(s->mu_);
      if (s->closed_) continue;
      if (s->pending_.size() + events.size() > s->max_pending_) {
        // Dropping events would silently hand the consumer a wrong picture: close instead.
        s->closed_ = true;
        s->overflowed_ = true;
        s->close_reason_ = "consumer too slow: more than " + std::to_string(s->max_pending_) +
                           " changes pending; reconnect (with snapshot) to resume";
        s->pending_.clear();
        s->pending_.shrink_to_fit();
      } else {
        s->pending_.insert(s->pending_.end(), events.begin(), events.end());
      }
    }
    s->wake_();
  }
}

void ChangeFeed::CloseAll(const std::string& reason) {
  std::vector<std::shared_ptr<Subscription>> all;
  {
    std::lock_guard lock(mu_);
    all = subscriptions_;
  }
  for (const auto& s : all) {
    {
      std::lock_guard lock(s->mu_);
      if (s->closed_) continue;
      s->closed_ = true;
      s->close_reason_ = reason;
    }
    s->wake_();
  }
}

}  // namespace sluice
