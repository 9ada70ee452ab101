// LogServer: serves an app's change log (log/log_feed.h) to API nodes over gRPC — the
// sluice.log.v1.ChangeLog service of log.proto, on api.app_grpc. Each Follow call streams a
// header and then the durable entries from the asked position, waiting for new ones.
// Thread-safety: Start/Stop/port from one controlling thread; calls run on gRPC's threads.
// The feed must outlive the server.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "log/log_feed.h"

namespace sluice {

class LogServer {
 public:
  LogServer(LogFeed& feed, std::string host, int port);
  ~LogServer();  // stops

  Status Start();
  // Ends open streams (their followers reconnect) and stops.
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
