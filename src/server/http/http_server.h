// HttpServer: HTTP/1.1 with keep-alive over Boost.Beast, asynchronous, one event loop per
// thread; accepted connections are spread over the loops in turn, and a connection stays on
// its loop, so no locks are taken per request. Requests go to a RestApi.
// Thread-safety: Start/Stop from one controlling thread; handlers run on the server threads.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/http/served_api.h"

namespace sluice {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0 picks a free port (see port())
  int threads = 0;  // 0 = one per core
  size_t max_body_bytes = 1 << 20;
  int idle_timeout_seconds = 60;
  // Open connections (live streams included) beyond which new ones get a 503 with Retry-After;
  // 0 = sized to the process's file-handle limit.
  size_t max_connections = 0;
};

class HttpServer {
 public:
  HttpServer(const ServedApi& api, HttpServerOptions options);
  ~HttpServer();

  // Binds and starts serving; fails with a clear message if the address is taken.
  Status Start();
  // Stops accepting, closes connections and joins the threads.
  void Stop();
  int port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
