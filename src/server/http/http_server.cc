#include "server/http/http_server.h"

#include "common/rate_limited_log.h"
#include "server/http/live_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace sluice {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One client connection: read a request, answer it, repeat while keep-alive holds.
// Responses are written as one gather-write of a small header and the body. The idle timeout
// runs on one timer per connection that is re-armed lazily (not once per read or write),
// which keeps timers off the per-request path; a client that does not complete a request
// within the timeout is disconnected.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServedApi& api, const HttpServerOptions& options,
          std::shared_ptr<void> slot)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        api_(api),
        options_(options),
        slot_(std::move(slot)),
        timeout_(std::chrono::seconds(options.idle_timeout_seconds)) {}

  void Start() {
    Touch();
    WatchIdle(timeout_);
    Read();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  void Touch() { last_activity_ = std::chrono::steady_clock::now(); }

  void WatchIdle(std::chrono::steady_clock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->socket_.is_open()) return;
      auto idle = std::chrono::steady_clock::now() - self->last_activity_;
      if (self->lingering_ || idle >= self->timeout_) return self->Close();
      self->WatchIdle(self->timeout_ - idle);
    });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(64 * 1024);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return SendError(
          413, "request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) return SendError(413, "request headers are too large");
    if (ec) return SendError(400, "malformed HTTP request: " + ec.message());
    Touch();

    auto& req = parser_->get();
    request_.method.assign(req.method_string());
    request_.target.assign(req.target());
    request_.authorization.assign(req[http::field::authorization]);
    const std::shared_ptr<const RestApi> api = api_.Get();
    if (auto live = api->MatchLive(request_)) {
      if (auto* route = std::get_if<LiveRoute>(&*live)) {
        // The connection becomes a live stream and leaves this session.
        idle_timer_.cancel();
        return StartLiveSession(std::move(socket_), parser_->release(), api, std::move(*route),
                                std::move(slot_));
      }
      auto& error = std::get<HttpResponse>(*live);
      return Send(std::move(error), req.keep_alive(), false, req.version());
    }
    request_.body = std::move(req.body());
    HttpResponse response;
    try {
      response = api->Handle(request_);
    } catch (const std::exception& e) {
      spdlog::error("request {} {} failed: {}", request_.method, request_.target, e.what());
      response = RestApi::Error(500, "internal error");
    }
    Send(std::move(response), req.keep_alive(), req.method() == http::verb::head, req.version());
  }

  void SendError(int status, std::string message) {
    Send(RestApi::Error(status, message), false, false, 11);
  }

  void Send(HttpResponse response, bool keep_alive, bool head, unsigned version) {
    body_ = std::move(response.body);
    head_.clear();
    head_.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    head_.append(std::to_string(response.status));
    head_.push_back(' ');
    head_.append(http::obsolete_reason(static_cast<http::status>(response.status)));
    head_.append("\r\nServer: sluice\r\nContent-Type: ");
    head_.append(response.content_type);
    head_.append("\r\nContent-Length: ");
    head_.append(std::to_string(body_.size()));
    for (const auto& [name, value] : response.headers) {
      head_.append("\r\n").append(name).append(": ").append(value);
    }
    if (!keep_alive) {
      head_.append("\r\nConnection: close");
    } else if (version == 10) {
      head_.append("\r\nConnection: keep-alive");
    }
    head_.append("\r\n\r\n");
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                              asio::buffer(body_.data(), head ? 0 : body_.size())};
    asio::async_write(socket_, buffers,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->Touch();
                        if (!keep_alive) return self->LingeringClose();
                        self->Read();
                      });
  }

  // After refusing a request we stop sending but keep reading (and discarding) for a while:
  // closing with unread input makes the kernel reset the connection, and the client could
  // lose our error response before reading it.
  void LingeringClose() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    lingering_ = true;
    WatchIdle(std::chrono::seconds(2));
    Drain(0);
  }

  void Drain(size_t drained) {
    if (drained > kMaxDrainBytes) return Close();
    // What is read is thrown away, so every session of a thread can share one buffer.
    thread_local std::array<char, 16384> discard;
    socket_.async_read_some(asio::buffer(discard),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->Drain(drained + n);
                            });
  }

  void Close() {
    beast::error_code ec;
    idle_timer_.cancel();
    if (!socket_.is_open()) return;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  static constexpr size_t kMaxDrainBytes = 64 << 20;

  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  const ServedApi& api_;
  const HttpServerOptions& options_;
  std::shared_ptr<void> slot_;  // this connection's place in the server's count
  const std::chrono::steady_clock::duration timeout_;
  std::chrono::steady_clock::time_point last_activity_;
  bool lingering_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  std::string head_;
  std::string body_;
};

// One event loop per thread. Loop 0 owns the acceptor; each accepted connection is placed on
// the next loop in turn, so connections spread over cores and a second process can never
// share the port by accident (no SO_REUSEPORT).
struct Loop {
  asio::io_context io{1};
};

struct Acceptor {
  std::unique_ptr<tcp::acceptor> socket;
  std::vector<std::unique_ptr<Loop>>* loops;
  size_t next = 0;
  // Open connections (plain and live); each holds a slot whose release counts it down.
  std::shared_ptr<std::atomic<size_t>> open = std::make_shared<std::atomic<size_t>>(0);
  size_t max_connections = 0;
  std::unique_ptr<asio::steady_timer> retry;  // backoff after running out of file handles
  RateLimitedLog refused_log{std::chrono::seconds(10)};
  RateLimitedLog accept_error_log{std::chrono::seconds(10)};
};

std::shared_ptr<void> TakeSlot(const std::shared_ptr<std::atomic<size_t>>& open) {
  open->fetch_add(1);
  return std::shared_ptr<void>(nullptr, [open](void*) { open->fetch_sub(1); });
}

// Over the cap: a short 503 with Retry-After, written without waiting, then the socket closes.
// The client learns to come back; the server spends no session on it.
void Refuse(tcp::socket& socket) {
  static constexpr std::string_view kBody =
      R"({"error":{"code":"unavailable","message":"too many connections; retry later"}})";
  static const std::string kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nServer: sluice\r\nRetry-After: 1\r\n"
      "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
      std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kResponse), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void Accept(Acceptor& acceptor, const ServedApi& api, const HttpServerOptions& options) {
  Loop& target = *(*acceptor.loops)[acceptor.next++ % acceptor.loops->size()];
  acceptor.socket->async_accept(
      target.io, [&acceptor, &api, &options](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec && acceptor.open->load() >= acceptor.max_connections) {
          if (auto n = acceptor.refused_log.Tick()) {
            spdlog::warn("refused {} connection(s) over api.max_connections ({}) with 503", *n,
                         acceptor.max_connections);
          }
          Refuse(socket);
        } else if (!ec) {
          socket.set_option(tcp::no_delay(true), ec);
          auto session =
              std::make_shared<Session>(std::move(socket), api, options, TakeSlot(acceptor.open));
          asio::post(session->executor(), [session] { session->Start(); });
        } else {
          if (auto n = acceptor.accept_error_log.Tick()) {
            spdlog::warn("accept failed {} time(s): {}", *n, ec.message());
          }
          // Out of file handles: the pending connection stays queued, so accepting again at
          // once would fail again at once (a busy loop). Wait for handles to be released.
          if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
              ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
            acceptor.retry->expires_after(std::chrono::milliseconds(100));
            acceptor.retry->async_wait([&acceptor, &api, &options](beast::error_code wait_ec) {
              if (!wait_ec) Accept(acceptor, api, options);
            });
            return;
          }
        }
        Accept(acceptor, api, options);
      });
}

// The connection cap when the config sets none: what the process's file-handle limit leaves
// after a reserve for the cache, the change log, source connections and logs.
size_t DefaultMaxConnections() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 10000;
  constexpr size_t kReserve = 128;
  const size_t handles = size_t(limit.rlim_cur);
  return handles > 2 * kReserve ? handles - kReserve : std::max<size_t>(handles / 2, 1);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const ServedApi& api, HttpServerOptions options) : api_(api), options_(std::move(options)) {}

  Status Start() {
    int threads = options_.threads > 0 ? options_.threads
                                       : int(std::max(1u, std::thread::hardware_concurrency()));
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return InvalidArgument("api.host '" + options_.host + "' is not an IP address");
    for (int i = 0; i < threads; ++i) loops_.push_back(std::make_unique<Loop>());
    acceptor_.loops = &loops_;
    acceptor_.socket = std::make_unique<tcp::acceptor>(loops_[0]->io);
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    auto& socket = *acceptor_.socket;
    socket.open(endpoint.protocol(), ec);
    if (!ec) socket.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) socket.bind(endpoint, ec);
    if (!ec) socket.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor_.socket.reset();
      loops_.clear();
      return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                         ": " + ec.message() +
                         " (is another process using the port? set api.rest.port)");
    }
    port_ = socket.local_endpoint().port();
    acceptor_.max_connections =
        options_.max_connections > 0 ? options_.max_connections : DefaultMaxConnections();
    acceptor_.retry = std::make_unique<asio::steady_timer>(loops_[0]->io);
    Accept(acceptor_, api_, options_);
    for (auto& loop : loops_) {
      threads_.emplace_back([l = loop.get()] {
        auto guard = asio::make_work_guard(l->io);
        l->io.run();
      });
    }
    return Status::OK();
  }

  void Stop() {
    for (auto& loop : loops_) loop->io.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    acceptor_.socket.reset();
    loops_.clear();
  }

  int port() const { return port_; }

 private:
  const ServedApi& api_;
  HttpServerOptions options_;
  int port_ = 0;
  std::vector<std::unique_ptr<Loop>> loops_;
  Acceptor acceptor_;
  std::vector<std::thread> threads_;
};

HttpServer::HttpServer(const ServedApi& api, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {}
HttpServer::~HttpServer() { Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::port() const { return impl_->port(); }

}  // namespace sluice
