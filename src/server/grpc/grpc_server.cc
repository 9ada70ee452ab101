#include "server/grpc/grpc_server.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>

#include "common/file_util.h"
#include "server/grpc/api_context.h"
#include "server/grpc/common_service.h"
#include "server/grpc/endpoint_proto.h"
#include "server/grpc/generic_call.h"
#include "server/grpc/grpc_status.h"
#include "server/grpc/reflection_service.h"
#include "server/grpc/typed_service.h"
#include "types/row_json.h"

namespace sluice {
namespace {

namespace pb = google::protobuf;

class CollectErrors : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    errors += (errors.empty() ? "" : "; ") + element + ": " + message;
  }
  std::string errors;
};

constexpr auto kShutdownGrace = std::chrono::seconds(2);

}  // namespace

struct GrpcServer::Impl {
  std::string home_dir;
  GrpcServerOptions options;
  std::vector<RestEndpoint> endpoints;
  grpc_api::ApiContext api;
  // The typed file on top of the compiled contracts (google/protobuf/timestamp.proto, ...).
  pb::DescriptorPool pool{pb::DescriptorPool::generated_pool()};
  const pb::FileDescriptor* typed_file = nullptr;
  std::string proto_path;
  std::unique_ptr<grpc_api::GenericCalls> generic;
  std::unique_ptr<grpc::Service> common;
  std::unique_ptr<grpc::Service> reflection;
  std::unique_ptr<grpc_api::TypedServices> typed;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  Status BuildServices();
  Status WriteProtoFiles();
};

GrpcServer::GrpcServer(std::string app_name, std::string home_dir, const CacheStore& store,
                       std::vector<RestEndpoint> endpoints, GrpcServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->home_dir = std::move(home_dir);
  impl_->options = std::move(options);
  impl_->endpoints = std::move(endpoints);
  impl_->api.app_name = std::move(app_name);
  impl_->api.store = &store;
  impl_->api.authenticator = impl_->options.authenticator;
}

GrpcServer::~GrpcServer() { Stop(); }

int GrpcServer::port() const { return impl_->port; }

std::string GrpcServer::proto_path() const { return impl_->proto_path; }

Status GrpcServer::Impl::BuildServices() {
  grpc_api::EndpointsProto proto = grpc_api::BuildEndpointsProto(api.app_name, endpoints);
  pb::Timestamp::descriptor();  // the typed file may import it: make sure it is built
  CollectErrors errors;
  typed_file = pool.BuildFileCollectingErrors(proto.file, &errors);
  if (!typed_file) return Internal("cannot build the typed gRPC services: " + errors.errors);
  for (size_t i = 0; i < endpoints.size(); ++i) {
    grpc_api::ServedEndpoint served;
    served.endpoint = endpoints[i];
    served.json_prefixes = JsonFieldPrefixes(endpoints[i].schema);
    served.proto = std::move(proto.endpoints[i]);
    api.endpoints.push_back(std::move(served));
  }
  generic = std::make_unique<grpc_api::GenericCalls>(api.authenticator);
  common = grpc_api::MakeCommonService(api, generic.get());
  typed = std::make_unique<grpc_api::TypedServices>(api, typed_file);
  RETURN_IF_ERROR(typed->Register(generic.get()));
  std::vector<std::string> services = {grpc_api::CommonServiceName()};
  for (const auto& e : api.endpoints) services.push_back(e.proto.FullService());
  services.push_back(grpc_api::HealthServiceName());
  services.push_back(grpc_api::ReflectionServiceName());
  reflection = grpc_api::MakeReflectionService(&pool, std::move(services), api.authenticator);
  return Status::OK();
}

// <home_dir>/grpc/<app>.proto (typed) and sluice/v1/sluice.proto (common, which clients
// need too), so `protoc -I <home_dir>/grpc` generates clients for both.
Status GrpcServer::Impl::WriteProtoFiles() {
  const std::string dir = home_dir + "/grpc";
  proto_path = dir + "/" + typed_file->name();
  RETURN_IF_ERROR(EnsureDirectory(dir));
  RETURN_IF_ERROR(WriteFileAtomically(proto_path, grpc_api::PrintProtoFile(*typed_file)));
  const pb::FileDescriptor* common_file = grpc_api::CommonServiceFile();
  const std::string common_path = dir + "/" + common_file->name();
  RETURN_IF_ERROR(EnsureDirectory(common_path.substr(0, common_path.rfind('/'))));
  return WriteFileAtomically(common_path,
                             "// The common service of every Sluice app; see docs/grpc.md.\n" +
                                 common_file->DebugString());
}

Status GrpcServer::Start() {
  Impl& d = *impl_;
  if (d.server) return FailedPrecondition("the gRPC server is already running");
  RETURN_IF_ERROR(d.BuildServices());
  RETURN_IF_ERROR(d.WriteProtoFiles());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  const std::string address = grpc_api::ListenAddress(d.options.host, d.options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &d.port);
  // Fail on a port another process listens on, rather than sharing it silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(d.common.get());
  builder.RegisterService(d.reflection.get());
  builder.RegisterCallbackGenericService(d.generic.get());
  d.server = builder.BuildAndStart();
  if (!d.server || d.port == 0) {
    d.server.reset();
    return Unavailable("cannot listen for gRPC on " + address +
                       " (address in use or not available?)");
  }
  if (grpc::HealthCheckServiceInterface* health = d.server->GetHealthCheckService()) {
    health->SetServingStatus(grpc_api::CommonServiceName(), true);
    for (const auto& e : d.api.endpoints) health->SetServingStatus(e.proto.FullService(), true);
  }
  return Status::OK();
}

void GrpcServer::Stop() {
  Impl& d = *impl_;
  if (!d.server) return;
  d.generic->CloseStreams(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  d.server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  d.server->Wait();
  d.server.reset();
}

}  // namespace sluice
