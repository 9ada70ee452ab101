#include "server/http/live_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>

#include "server/live_stream.h"
#include "types/row_json.h"
#include "types/value_text.h"

namespace sluice {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

const char* OpName(LiveMessage::Kind kind) {
  switch (kind) {
    case LiveMessage::Kind::kSnapshotRow:
      return "snapshot";
    case LiveMessage::Kind::kSnapshotEnd:
      return "snapshot_end";
    case LiveMessage::Kind::kInsert:
      return "insert";
    case LiveMessage::Kind::kUpdate:
      return "update";
    case LiveMessage::Kind::kDelete:
      return "delete";
  }
  return "?";
}

// Transport-independent half: pulls messages from the LiveStream when the transport is
// ready for more, one batch in flight at a time, so a slow client backs up into the feed's
// bounded queue (which then closes the subscription) and never into our memory.
class LiveSession : public std::enable_shared_from_this<LiveSession> {
 public:
  LiveSession(std::shared_ptr<const RestApi> api, LiveRoute route, asio::any_io_executor executor)
      : api_(std::move(api)), route_(std::move(route)), executor_(std::move(executor)) {}
  virtual ~LiveSession() = default;
  void HoldConnectionSlot(std::shared_ptr<void> slot) { connection_slot_ = std::move(slot); }

 protected:
  // Subscribes and starts pumping (call on the session's executor).
  void Begin() {
    LiveStream::Options options;
    options.snapshot = route_.snapshot;
    std::weak_ptr<LiveSession> weak = weak_from_this();
    auto stream = LiveStream::Open(api_->store(), *route_.endpoint, route_.filter, options,
                                   [weak, executor = executor_] {
                                     asio::post(executor, [weak] {
                                       if (auto self = weak.lock()) self->Pump();
                                     });
                                   });
    if (!stream.ok()) return Fail(stream.status().message());
    stream_ = std::move(*stream);
    if (route_.token_expires_at > 0) {
      // A stream lives no longer than the token that opened it.
      expiry_ = std::make_unique<asio::system_timer>(executor_);
      expiry_->expires_at(
          std::chrono::system_clock::time_point(std::chrono::seconds(route_.token_expires_at)));
      expiry_->async_wait([weak](beast::error_code ec) {
        if (auto self = weak.lock(); self && !ec) self->Fail("token expired");
      });
    }
    Pump();
  }

  // Called when the transport finished writing the last batch.
  void Written() {
    writing_ = false;
    Pump();
  }

  void Fail(const std::string& message) {
    if (failed_) return;
    failed_ = true;
    stream_.reset();
    std::string json = "{\"op\":\"error\",\"message\":";
    AppendJsonString(message, &json);
    json += "}";
    writing_ = true;
    WriteFinal(Message("error", json));
  }

  bool closed_ = false;

 private:
  void Pump() {
    if (writing_ || closed_ || failed_ || !stream_) return;
    auto messages = stream_->Next();
    if (!messages.ok()) return Fail(messages.status().message());
    if (messages->empty()) return;
    std::vector<std::string> out;
    out.reserve(messages->size());
    for (const LiveMessage& m : *messages) {
      std::string json;
      Status s = Format(m, &json);
      if (!s.ok()) return Fail(s.message());
      out.push_back(Message(OpName(m.kind), json));
    }
    writing_ = true;
    WriteBatch(std::move(out));
  }

  Status Format(const LiveMessage& m, std::string* json) const {
    const RestEndpoint& e = *route_.endpoint;
    *json = "{\"op\":\"";
    *json += OpName(m.kind);
    *json += "\"";
    if (m.kind != LiveMessage::Kind::kSnapshotRow && m.kind != LiveMessage::Kind::kSnapshotEnd) {
      *json += ",\"epoch\":" + std::to_string(m.epoch);
    }
    if (!m.old_row.empty()) {
      *json += ",\"old\":";
      RETURN_IF_ERROR(AppendRowJson(e.schema, m.old_row, route_.json_prefixes, json));
    }
    if (!m.new_row.empty()) {
      *json += ",\"row\":";
      RETURN_IF_ERROR(AppendRowJson(e.schema, m.new_row, route_.json_prefixes, json));
    }
    *json += "}";
    return Status::OK();
  }

  // Transport framing of one message.
  virtual std::string Message(std::string_view op, const std::string& json) const = 0;
  virtual void WriteBatch(std::vector<std::string> messages) = 0;
  // Writes the last message, then closes.
  virtual void WriteFinal(std::string message) = 0;

  std::shared_ptr<const RestApi> api_;
  const LiveRoute route_;
  asio::any_io_executor executor_;
  std::unique_ptr<LiveStream> stream_;
  std::unique_ptr<asio::system_timer> expiry_;
  bool writing_ = false;
  bool failed_ = false;
  std::shared_ptr<void> connection_slot_;
};

class SseSession final : public LiveSession {
 public:
  SseSession(tcp::socket socket, std::shared_ptr<const RestApi> api, LiveRoute route)
      : LiveSession(std::move(api), std::move(route), socket.get_executor()),
        socket_(std::move(socket)),
        heartbeat_(socket_.get_executor()) {}

  void Start() {
    pending_ =
        "HTTP/1.1 200 OK\r\nServer: sluice\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nConnection: close\r\nX-Accel-Buffering: no\r\n\r\n";
    WatchPeer();
    Heartbeat();
    Begin();
    if (!pending_.empty()) Flush();
  }

 private:
  std::string Message(std::string_view op, const std::string& json) const override {
    return "event: " + std::string(op) + "\ndata: " + json + "\n\n";
  }

  void WriteBatch(std::vector<std::string> messages) override {
    for (auto& m : messages) pending_ += m;
    Flush();
  }

  void WriteFinal(std::string message) override {
    pending_ += message;
    final_ = true;
    Flush();
  }

  void Flush() {
    if (flushing_) return;
    flushing_ = true;
    out_ = std::move(pending_);
    pending_.clear();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared(), this](beast::error_code ec, size_t) {
                        flushing_ = false;
                        if (ec) return Close();
                        if (!pending_.empty()) return Flush();
                        if (final_) return Close();
                        Written();
                      });
  }

  // The client never sends anything after its request: a read completing means it left.
  void WatchPeer() {
    socket_.async_read_some(asio::buffer(peer_buffer_),
                            [self = shared(), this](beast::error_code ec, size_t) {
                              if (ec) return Close();
                              WatchPeer();
                            });
  }

  void Heartbeat() {
    heartbeat_.expires_after(std::chrono::seconds(15));
    heartbeat_.async_wait([self = shared(), this](beast::error_code ec) {
      if (ec || closed_) return;
      if (!flushing_ && pending_.empty()) {
        pending_ = ": keepalive\n\n";
        flushing_ = true;
        out_ = std::move(pending_);
        pending_.clear();
        asio::async_write(socket_, asio::buffer(out_), [self, this](beast::error_code ec, size_t) {
          flushing_ = false;
          if (ec) return Close();
          if (!pending_.empty()) Flush();
        });
      }
      Heartbeat();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    heartbeat_.cancel();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  std::shared_ptr<SseSession> shared() {
    return std::static_pointer_cast<SseSession>(shared_from_this());
  }

  tcp::socket socket_;
  asio::steady_timer heartbeat_;
  std::string pending_, out_;
  std::array<char, 512> peer_buffer_;
  bool flushing_ = false;
  bool final_ = false;
};

class WebSocketSession final : public LiveSession {
 public:
  WebSocketSession(tcp::socket socket, std::shared_ptr<const RestApi> api, LiveRoute route)
      : LiveSession(std::move(api), std::move(route), socket.get_executor()),
        ws_(std::move(socket)) {}

  void Start(http::request<http::string_body> request) {
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& r) { r.set(http::field::server, "sluice"); }));
    ws_.text(true);
    ws_.async_accept(request, [self = shared(), this](beast::error_code ec) {
      if (ec) return;
      ReadControl();
      Begin();
    });
  }

 private:
  std::string Message(std::string_view, const std::string& json) const override { return json; }

  void WriteBatch(std::vector<std::string> messages) override {
    for (auto& m : messages) queue_.push_back(std::move(m));
    WriteNext();
  }

  void WriteFinal(std::string message) override {
    queue_.push_back(std::move(message));
    final_ = true;
    WriteNext();
  }

  void WriteNext() {
    if (sending_ || closed_) return;
    if (queue_.empty()) {
      if (final_) {
        closed_ = true;
        ws_.async_close(websocket::close_code::policy_error,
                        [self = shared()](beast::error_code) {});
        return;
      }
      return Written();
    }
    sending_ = true;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    ws_.async_write(asio::buffer(current_), [self = shared(), this](beast::error_code ec, size_t) {
      sending_ = false;
      if (ec) {
        closed_ = true;
        return;
      }
      WriteNext();
    });
  }

  // Reading is what answers pings and notices the client closing.
  void ReadControl() {
    ws_.async_read(read_buffer_, [self = shared(), this](beast::error_code ec, size_t) {
      if (ec) {
        closed_ = true;
        return;
      }
      read_buffer_.clear();  // clients have nothing to say; ignore what they send
      ReadControl();
    });
  }

  std::shared_ptr<WebSocketSession> shared() {
    return std::static_pointer_cast<WebSocketSession>(shared_from_this());
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer read_buffer_;
  std::deque<std::string> queue_;
  std::string current_;
  bool sending_ = false;
  bool final_ = false;
};

}  // namespace

void StartLiveSession(tcp::socket socket, http::request<http::string_body> request,
                      std::shared_ptr<const RestApi> api, LiveRoute route,
                      std::shared_ptr<void> connection_slot) {
  if (websocket::is_upgrade(request)) {
    auto session =
        std::make_shared<WebSocketSession>(std::move(socket), std::move(api), std::move(route));
    session->HoldConnectionSlot(std::move(connection_slot));
    session->Start(std::move(request));
  } else {
    auto session =
        std::make_shared<SseSession>(std::move(socket), std::move(api), std::move(route));
    session->HoldConnectionSlot(std::move(connection_slot));
    session->Start();
  }
}

}  // namespace sluice
