#include "server/grpc/log_server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "log.grpc.pb.h"
#include "server/grpc/grpc_status.h"

namespace sluice {
namespace {

namespace pb = sluice::log::v1;

constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr size_t kMaxEntriesPerRead = 256;

class ChangeLogService final : public pb::ChangeLog::Service {
 public:
  explicit ChangeLogService(LogFeed& feed) : feed_(feed) {}

  void Close() { closing_ = true; }

  grpc::Status Follow(grpc::ServerContext* context, const pb::FollowRequest* request,
                      grpc::ServerWriter<pb::FollowResponse>* writer) override {
    const bool same_log = request->generation() == feed_.generation();
    uint64_t next = same_log ? std::max<uint64_t>(request->from_seq(), 1) : 1;
    pb::FollowResponse response;
    pb::FollowHeader* header = response.mutable_header();
    header->set_generation(feed_.generation());
    header->set_serving_info(feed_.serving_info());
    header->set_first_seq(feed_.first_seq());
    header->set_last_seq(feed_.durable_seq());
    if (!writer->Write(response)) return grpc::Status::CANCELLED;
    if (!request->follower().empty()) feed_.Applied(request->follower(), next - 1);
    while (!context->IsCancelled() && !closing_) {
      const uint64_t durable = feed_.WaitBeyond(next - 1, kPollInterval);
      if (durable < next) continue;
      const uint64_t to = std::min(durable, next + kMaxEntriesPerRead - 1);
      bool written = true;
      Status read = feed_.Read(next, to, [&](uint64_t seq, std::string_view data) {
        response.Clear();
        pb::LogEntry* entry = response.mutable_entry();
        entry->set_seq(seq);
        entry->set_data(data.data(), data.size());
        written = writer->Write(response);
        next = seq + 1;
        return written;
      });
      if (read.code() == StatusCode::kOutOfRange) {
        return grpc_api::ToGrpcStatus(
            FailedPrecondition(read.message() +
                               "; this API node's cache must be rebuilt: stop it, delete its "
                               "home_dir and start it again"));
      }
      if (!read.ok()) return grpc_api::ToGrpcStatus(read);
      if (!written) return grpc::Status::CANCELLED;
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the app is shutting down");
  }

  grpc::Status Applied(grpc::ServerContext*, const pb::AppliedRequest* request,
                       pb::AppliedResponse*) override {
    feed_.Applied(request->follower(), request->seq());
    return grpc::Status::OK;
  }

 private:
  LogFeed& feed_;
  std::atomic<bool> closing_{false};
};

}  // namespace

struct LogServer::Impl {
  explicit Impl(LogFeed& feed) : service(feed) {}
  ChangeLogService service;
  std::string host;
  int requested_port = 0;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

LogServer::LogServer(LogFeed& feed, std::string host, int port)
    : impl_(std::make_unique<Impl>(feed)) {
  impl_->host = std::move(host);
  impl_->requested_port = port;
}

LogServer::~LogServer() { Stop(); }

int LogServer::port() const { return impl_->port; }

Status LogServer::Start() {
  const std::string address = grpc_api::ListenAddress(impl_->host, impl_->requested_port);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl_->port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Entries of large epochs can be big.
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    impl_->server.reset();
    return Unavailable("cannot listen for API nodes on " + address +
                       " (api.app_grpc: address in use or not available?)");
  }
  return Status::OK();
}

void LogServer::Stop() {
  if (!impl_->server) return;
  impl_->service.Close();
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace sluice
