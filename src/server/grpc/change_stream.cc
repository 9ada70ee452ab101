#include "server/grpc/change_stream.h"

namespace sluice::grpc_api {
namespace {

StreamEventKind KindOf(LiveMessage::Kind kind) {
  switch (kind) {
    case LiveMessage::Kind::kSnapshotEnd:
      return StreamEventKind::kSnapshotComplete;
    case LiveMessage::Kind::kUpdate:
      return StreamEventKind::kUpdate;
    case LiveMessage::Kind::kDelete:
      return StreamEventKind::kDelete;
    case LiveMessage::Kind::kSnapshotRow:
    case LiveMessage::Kind::kInsert:
      break;
  }
  return StreamEventKind::kInsert;
}

}  // namespace

Result<std::unique_ptr<ChangeStream>> ChangeStream::Open(
    const CacheStore& store, const RestEndpoint& endpoint, FilterNode filter, bool snapshot,
    EventRenderer render, std::function<void()> wake, size_t max_pending) {
  LiveStream::Options options;
  options.snapshot = snapshot;
  options.max_pending = max_pending;
  ASSIGN_OR_RETURN(std::unique_ptr<LiveStream> live,
                   LiveStream::Open(store, endpoint, std::move(filter), options, std::move(wake)));
  return std::unique_ptr<ChangeStream>(new ChangeStream(std::move(live), std::move(render)));
}

Status ChangeStream::Refill() {
  Result<std::vector<LiveMessage>> messages = live_->Next();
  if (!messages.ok()) {
    // The feed closed the subscription: ResourceExhausted when the consumer fell behind,
    // Unavailable when the cache went away (shutdown, a new cache version).
    const StatusCode code = messages.status().code();
    if (code != StatusCode::kResourceExhausted && code != StatusCode::kUnavailable) {
      return messages.status();
    }
    end_ = Status(code, "subscription closed: " + messages.status().message());
    return Status::OK();
  }
  for (const LiveMessage& m : *messages) {
    StreamEvent event;
    event.kind = KindOf(m.kind);
    event.epoch = m.epoch;
    event.old_row = m.old_row;
    event.new_row = m.new_row;
    event.snapshot = m.kind == LiveMessage::Kind::kSnapshotRow;
    ASSIGN_OR_RETURN(std::string rendered, render_(event));
    ready_.push_back(std::move(rendered));
  }
  return Status::OK();
}

Result<std::optional<std::string>> ChangeStream::Next() {
  if (ready_.empty() && !end_) RETURN_IF_ERROR(Refill());
  if (ready_.empty()) return std::optional<std::string>();
  std::string message = std::move(ready_.front());
  ready_.pop_front();
  return std::optional<std::string>(std::move(message));
}

}  // namespace sluice::grpc_api
