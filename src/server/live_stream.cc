#include "server/live_stream.h"

#include "cache/query.h"
#include "types/row_codec.h"

namespace sluice {

LiveStream::LiveStream(const CacheStore& store, const RestEndpoint& endpoint, FilterNode filter,
                       const Options& options)
    : store_(store), endpoint_(endpoint), filter_(std::move(filter)), options_(options) {}

LiveStream::~LiveStream() {
  if (subscription_) store_.feed().Unsubscribe(subscription_);
}

Result<std::unique_ptr<LiveStream>> LiveStream::Open(const CacheStore& store,
                                                     const RestEndpoint& endpoint,
                                                     FilterNode filter, const Options& options,
                                                     std::function<void()> wake) {
  std::unique_ptr<LiveStream> stream(new LiveStream(store, endpoint, std::move(filter), options));
  stream->subscription_ =
      store.feed().Subscribe(endpoint.cache_table, options.max_pending, std::move(wake));
  // Opened after subscribing, with commits paused: every commit is either in this view or in
  // the feed (or both, which seen_txn_ sorts out).
  Result<ReadView> opened = [&] {
    const auto commits_paused = store.feed().PauseCommits();
    return store.BeginRead();
  }();
  ASSIGN_OR_RETURN(ReadView view, std::move(opened));
  stream->seen_txn_ = view.txn_id();
  if (options.snapshot) {
    stream->snapshot_view_.emplace(std::move(view));
  } else {
    stream->snapshot_done_ = true;
  }
  return stream;
}

Status LiveStream::ReadSnapshotBatch(std::vector<LiveMessage>* out) {
  QuerySpec page;
  page.filter = filter_;
  page.limit = options_.snapshot_batch;
  page.after = snapshot_cursor_;
  std::optional<std::string> next;
  RETURN_IF_ERROR(RunQuery(
      *snapshot_view_, endpoint_.cache_table, page,
      [&](std::string_view row) {
        out->push_back({LiveMessage::Kind::kSnapshotRow, 0, {}, std::string(row)});
        return true;
      },
      &next));
  snapshot_cursor_ = std::move(next);
  if (!snapshot_cursor_) {
    snapshot_done_ = true;
    snapshot_view_.reset();  // releases the read transaction
    out->push_back({LiveMessage::Kind::kSnapshotEnd});
  }
  return Status::OK();
}

void LiveStream::FilterEvent(ChangeEvent event, std::vector<LiveMessage>* out) const {
  const Schema& schema = endpoint_.schema;
  auto matches = [&](const std::string& row) {
    if (row.empty()) return false;
    if (filter_.op == FilterNode::Op::kTrue) return true;
    auto record = DecodeRow(schema, row);
    return record.ok() && FilterMatches(filter_, schema, *record);
  };
  const bool old_matches = matches(event.old_row), new_matches = matches(event.new_row);
  LiveMessage message;
  message.epoch = event.epoch;
  if (old_matches && new_matches) {
    message.kind = LiveMessage::Kind::kUpdate;
    message.old_row = std::move(event.old_row);
    message.new_row = std::move(event.new_row);
  } else if (old_matches) {
    message.kind = LiveMessage::Kind::kDelete;
    message.old_row = std::move(event.old_row);
  } else if (new_matches) {
    message.kind = LiveMessage::Kind::kInsert;
    message.new_row = std::move(event.new_row);
  } else {
    return;
  }
  out->push_back(std::move(message));
}

Result<std::vector<LiveMessage>> LiveStream::Next() {
  std::vector<LiveMessage> out;
  if (subscription_->closed()) {
    const std::string reason = subscription_->close_reason();
    return subscription_->overflowed() ? ResourceExhausted(reason) : Unavailable(reason);
  }
  if (!snapshot_done_) {
    // Changes wait in the feed's bounded queue while the snapshot is sent.
    RETURN_IF_ERROR(ReadSnapshotBatch(&out));
    return out;
  }
  for (ChangeEvent& event : subscription_->Drain()) {
    if (event.commit_txn <= seen_txn_) continue;
    FilterEvent(std::move(event), &out);
  }
  return out;
}

}  // namespace sluice
