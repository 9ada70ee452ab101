// GrpcServer: the app's gRPC API (docs/grpc.md) — the common service sluice.v1.Sluice, one
// typed service per endpoint generated from its schema at start-up (its .proto written to
// <home_dir>/grpc/<app_name>.proto for clients), standard health checking and server
// reflection that describes all of them. Reads the same cache and query layer as REST, and
// with an authenticator authorizes every call but health's as REST does (docs/auth.md).
//
// Thread-safety: Start/Stop/port from one controlling thread; requests are served on gRPC's
// own threads. The store and the authenticator must outlive the server. gRPC and protobuf
// stay out of this header.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "common/status.h"
#include "server/endpoint.h"

namespace sluice {

class Authenticator;  // server/auth/authenticator.h

struct GrpcServerOptions {
  std::string host = "0.0.0.0";
  int port = 0;  // 0: a free port, see port()
  // api.auth: every method but health's needs `authorization: Bearer <token>` metadata and
  // sees what the token allows. Null: every method is open.
  const Authenticator* authenticator = nullptr;
};

class GrpcServer {
 public:
  GrpcServer(std::string app_name, std::string home_dir, const CacheStore& store,
             std::vector<RestEndpoint> endpoints, GrpcServerOptions options = {});
  ~GrpcServer();  // stops

  // Builds the typed services, writes their .proto files, and starts listening.
  Status Start();
  // Ends open subscriptions (UNAVAILABLE), lets running calls finish briefly, stops.
  void Stop();

  int port() const;  // the bound port once started
  // <home_dir>/grpc/<app_name>.proto, the typed services' contract.
  std::string proto_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
