// Raw HTTP/1.x bytes as a client sends them over a connection: parsed by Boost.Beast's
// request parser with the server's limits (src/server/http/http_server.cc: 1 MiB bodies,
// 64 KiB headers), turned into an HttpRequest the way the server does, and answered by the
// RestApi, request after request while keep-alive holds (pipelining).
//
// Input: the bytes received on one connection.
// Contracts: a parse error becomes the server's 400/413 error response (valid JSON); a
// complete request gets a response that passes CheckResponse and whose status line has a
// reason phrase; nothing throws.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "fuzz_shop.h"
#include "fuzz_support.h"

namespace sluice::fuzz::http_request {
namespace {

namespace http = boost::beast::http;

constexpr size_t kMaxBodyBytes = 1 << 20;  // HttpServerOptions::max_body_bytes
constexpr size_t kMaxHeaderBytes = 64 * 1024;

void CheckErrorResponse(int status, const std::string& message) {
  CheckResponse(RestApi::Error(status, message), "parse error " + message);
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  static Shop* shop = MakeShop("http_request").release();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int requests = 0; !rest.empty() && requests < 16; ++requests) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(kMaxHeaderBytes);
    boost::beast::error_code ec;
    size_t used = 0;
    while (!parser.is_done()) {
      const size_t n = parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n;
      if (ec == http::error::need_more) ec = {};
      if (ec) break;
      // Everything received is offered at once: no progress means the request is incomplete
      // (the server would wait for more, then time out).
      if (!parser.is_done() && (n == 0 || used >= rest.size())) return 0;
    }
    if (ec == http::error::body_limit) {
      return CheckErrorResponse(413, "request body is larger than 1048576 bytes"), 0;
    }
    if (ec == http::error::header_limit) {
      return CheckErrorResponse(413, "request headers are too large"), 0;
    }
    if (ec) return CheckErrorResponse(400, "malformed HTTP request: " + ec.message()), 0;
    rest.remove_prefix(used);

    auto& req = parser.get();
    HttpRequest request;
    request.method.assign(req.method_string());
    request.target.assign(req.target());
    request.authorization.assign(req[http::field::authorization]);
    request.body = req.body();
    const RestApi& api = request.authorization.empty() ? *shop->open_api : *shop->auth_api;
    if (auto live = api.MatchLive(request); live && std::holds_alternative<LiveRoute>(*live)) {
      return 0;  // the connection becomes a live stream
    }
    HttpResponse response = Answer(api, request, false);
    const auto reason = http::obsolete_reason(static_cast<http::status>(response.status));
    FUZZ_CHECK(!reason.empty() && reason.find_first_of("\r\n") == std::string_view::npos,
               "status " + std::to_string(response.status));
    if (!req.keep_alive()) break;
  }
  return 0;
}

}  // namespace sluice::fuzz::http_request
