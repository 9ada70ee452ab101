#include "server/http/http_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <thread>
#include <vector>

namespace sluice {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One client connection: read a request, answer it, repeat while keep-alive holds.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const RestApi& api, const HttpServerOptions& options)
      : stream_(std::move(socket)), api_(api), options_(options) {}

  void Start() { Read(); }
  friend asio::any_io_executor session_executor(Session& s) { return s.stream_.get_executor(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return SendError(413, "request body is larger than " +
                                std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) return SendError(413, "request headers are too large");
    if (ec) return SendError(400, "malformed HTTP request: " + ec.message());

    auto& req = parser_->get();
    HttpRequest request{std::string(req.method_string()), std::string(req.target()),
                        std::move(req.body())};
    HttpResponse response;
    try {
      response = api_.Handle(request);
    } catch (const std::exception& e) {
      spdlog::error("request {} {} failed: {}", request.method, request.target, e.what());
      response = RestApi::Error(500, "internal error");
    }
    Send(std::move(response), req.keep_alive(), req.method() == http::verb::head, req.version());
  }

  void SendError(int status, std::string message) {
    Send(RestApi::Error(status, message), false, false, 11);
  }

  void Send(HttpResponse response, bool keep_alive, bool head, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    res->set(http::field::server, "sluice");
    res->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    if (head) {
      res->content_length(response.body.size());
    } else {
      res->body() = std::move(response.body);
      res->prepare_payload();
    }
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        if (!keep_alive) return self->LingeringClose();
                        self->Read();
                      });
  }

  // After refusing a request we stop sending but keep reading (and discarding) for a while:
  // closing with unread input makes the kernel reset the connection, and the client could
  // lose our error response before reading it.
  void LingeringClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    Drain(0);
  }

  void Drain(size_t drained) {
    if (drained > kMaxDrainBytes) return Close();
    // What is read is thrown away, so every session of a thread can share one buffer.
    thread_local std::array<char, 16384> discard;
    stream_.async_read_some(asio::buffer(discard),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->Drain(drained + n);
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  static constexpr size_t kMaxDrainBytes = 64 << 20;

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const RestApi& api_;
  const HttpServerOptions& options_;
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
};

void Accept(Acceptor& acceptor, const RestApi& api, const HttpServerOptions& options) {
  Loop& target = *(*acceptor.loops)[acceptor.next++ % acceptor.loops->size()];
  acceptor.socket->async_accept(
      target.io, [&acceptor, &api, &options](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          socket.set_option(tcp::no_delay(true), ec);
          auto session = std::make_shared<Session>(std::move(socket), api, options);
          asio::post(session_executor(*session), [session] { session->Start(); });
        } else {
          spdlog::warn("accept failed: {}", ec.message());
        }
        Accept(acceptor, api, options);
      });
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const RestApi& api, HttpServerOptions options) : api_(api), options_(std::move(options)) {}

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
  const RestApi& api_;
  HttpServerOptions options_;
  int port_ = 0;
  std::vector<std::unique_ptr<Loop>> loops_;
  Acceptor acceptor_;
  std::vector<std::thread> threads_;
};

HttpServer::HttpServer(const RestApi& api, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {}
HttpServer::~HttpServer() { Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::port() const { return impl_->port(); }

}  // namespace sluice
