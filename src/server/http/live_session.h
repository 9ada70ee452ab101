// Live subscriptions over HTTP (`GET {path}/live`): Server-Sent Events, or a WebSocket when
// the request asks to upgrade. Each message is one JSON object:
//   {"op":"snapshot","row":{..}}  ... {"op":"snapshot_end"}      (when snapshot=true)
//   {"op":"insert","epoch":7,"row":{..}}
//   {"op":"update","epoch":7,"old":{..},"row":{..}}
//   {"op":"delete","epoch":7,"old":{..}}
//   {"op":"error","message":".."}                               (then the server closes)
// SSE names the event after "op" and sends a comment every 15 s to keep proxies from timing
// out. Internal to the HTTP server (http_server.cc hands a connection over).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http/rest_api.h"

namespace sluice {

// `api` stays alive as long as the stream (it holds the cache version the stream reads), and
// so does `connection_slot` (the server's count of open connections, http_server.cc).
void StartLiveSession(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> request,
                      std::shared_ptr<const RestApi> api, LiveRoute route,
                      std::shared_ptr<void> connection_slot = nullptr);

}  // namespace sluice
