#include "control/api_servers.h"

#include <spdlog/spdlog.h>

#include "control/auth_setup.h"
#include "server/grpc/grpc_server.h"
#include "server/http/http_server.h"
#include "server/http/rest_api.h"
#include "server/http/served_api.h"

namespace sluice {
namespace {

// A cache version together with the REST API over it; REST requests and live streams hold
// it (through ServedApi's shared pointers) while they use it.
struct ServingVersion {
  std::shared_ptr<CacheStore> store;
  std::vector<RestEndpoint> endpoints;
  std::shared_ptr<const Authenticator> authenticator;  // null without api.auth; gRPC shares it
  std::unique_ptr<RestApi> api;
};

}  // namespace

struct ApiServers::Impl {
  explicit Impl(const Config& c) : config(c) {}
  const Config& config;
  std::shared_ptr<ServingVersion> version;
  std::unique_ptr<ServedApi> served;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<GrpcServer> grpc;
  // The gRPC server's authenticator: replaced only once the server using it stopped.
  std::shared_ptr<const Authenticator> grpc_authenticator;

  Result<std::shared_ptr<ServingVersion>> Serve(std::shared_ptr<CacheStore> store,
                                                std::vector<RestEndpoint> endpoints) {
    auto v = std::make_shared<ServingVersion>();
    v->store = std::move(store);
    v->endpoints = std::move(endpoints);
    ASSIGN_OR_RETURN(v->authenticator, MakeAuthenticator(config, v->endpoints));
    RestAuth auth;
    auth.authenticator = v->authenticator.get();
    if (config.api.auth) {
      auth.secret = config.api.auth->jwt_secret;
      auth.audience = config.api.auth->audience;
      auth.issuer = config.api.auth->issuer;
    }
    v->api = std::make_unique<RestApi>(config.app_name, *v->store, v->endpoints, std::move(auth));
    return v;
  }
  static std::shared_ptr<const RestApi> RestOf(const std::shared_ptr<ServingVersion>& v) {
    return std::shared_ptr<const RestApi>(v, v->api.get());
  }
  Status StartGrpc(int port) {
    grpc_authenticator = version->authenticator;
    grpc = std::make_unique<GrpcServer>(
        config.app_name, config.home_dir, *version->store, version->endpoints,
        GrpcServerOptions{config.api.grpc->host, port, grpc_authenticator.get()});
    RETURN_IF_ERROR(grpc->Start());
    spdlog::info("gRPC API listening on {}:{} (typed services: {})", config.api.grpc->host,
                 grpc->port(), grpc->proto_path());
    return Status::OK();
  }
};

ApiServers::ApiServers(const Config& config) : impl_(std::make_unique<Impl>(config)) {}

ApiServers::~ApiServers() { Stop(); }

Status ApiServers::Start(std::shared_ptr<CacheStore> store, std::vector<RestEndpoint> endpoints) {
  Impl& d = *impl_;
  ASSIGN_OR_RETURN(d.version, d.Serve(std::move(store), std::move(endpoints)));
  d.served = std::make_unique<ServedApi>(Impl::RestOf(d.version));
  HttpServerOptions http_options;
  http_options.host = d.config.api.host;
  http_options.port = d.config.api.rest_port;
  http_options.threads = d.config.api.threads;
  d.http = std::make_unique<HttpServer>(*d.served, http_options);
  RETURN_IF_ERROR(d.http->Start());
  spdlog::info("REST API listening on {}:{}", d.config.api.host, d.http->port());
  if (d.config.api.grpc) RETURN_IF_ERROR(d.StartGrpc(d.config.api.grpc->port));
  return Status::OK();
}

Status ApiServers::Switch(std::shared_ptr<CacheStore> store, std::vector<RestEndpoint> endpoints,
                          const std::string& reason) {
  Impl& d = *impl_;
  ASSIGN_OR_RETURN(std::shared_ptr<ServingVersion> next,
                   d.Serve(std::move(store), std::move(endpoints)));
  std::shared_ptr<ServingVersion> previous = std::move(d.version);
  d.version = std::move(next);
  d.served->Set(Impl::RestOf(d.version));
  if (d.grpc) {
    const int port = d.grpc->port();
    d.grpc->Stop();
    RETURN_IF_ERROR(d.StartGrpc(port));
  }
  if (previous && previous->store != d.version->store) previous->store->feed().CloseAll(reason);
  return Status::OK();
}

void ApiServers::Stop() {
  Impl& d = *impl_;
  if (d.grpc) d.grpc->Stop();
  if (d.http) d.http->Stop();
}

int ApiServers::rest_port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace sluice
