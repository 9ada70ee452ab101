#include "server/grpc/log_client.h"

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <thread>

#include "log.grpc.pb.h"

namespace sluice {
namespace {

namespace pb = sluice::log::v1;

Status FromGrpc(const grpc::Status& s, const std::string& peer) {
  const std::string message = "the app at " + peer + ": " + s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::FAILED_PRECONDITION:
      return FailedPrecondition(message);
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return DataLoss(message);
    default:
      return Unavailable(message);
  }
}

class GrpcLogFollower final : public LogFollower {
 public:
  GrpcLogFollower(std::string address, std::string follower)
      : address_(std::move(address)), follower_(std::move(follower)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    // Notice a vanished app quickly, then reconnect with short waits.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
    stub_ = pb::ChangeLog::NewStub(channel_);
  }

  Status Follow(const std::string& generation, uint64_t from_seq, std::stop_token stop,
                const std::function<Status(const FollowHeader&)>& on_header,
                const std::function<Status(uint64_t, std::string_view)>& on_entry) override {
    grpc::ClientContext context;
    std::stop_callback cancel(stop, [&context] { context.TryCancel(); });
    pb::FollowRequest request;
    request.set_from_seq(from_seq);
    request.set_follower(follower_);
    request.set_generation(generation);
    std::unique_ptr<grpc::ClientReader<pb::FollowResponse>> reader =
        stub_->Follow(&context, request);
    pb::FollowResponse response;
    Status failed;
    while (failed.ok() && reader->Read(&response)) {
      if (response.has_header()) {
        const pb::FollowHeader& h = response.header();
        failed = on_header({h.generation(), h.serving_info(), h.first_seq(), h.last_seq()});
      } else {
        failed = on_entry(response.entry().seq(), response.entry().data());
      }
    }
    if (!failed.ok()) {
      context.TryCancel();
      (void)reader->Finish();
      return failed;
    }
    grpc::Status finished = reader->Finish();
    if (stop.stop_requested()) return Status::OK();
    if (finished.ok()) return Unavailable("the app at " + address_ + " ended the stream");
    return FromGrpc(finished, address_);
  }

  void Applied(uint64_t seq) override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    pb::AppliedRequest request;
    request.set_follower(follower_);
    request.set_seq(seq);
    pb::AppliedResponse response;
    (void)stub_->Applied(&context, request, &response);  // best effort: the next one catches up
  }

  std::string describe() const override { return "the app at " + address_; }

 private:
  std::string address_;
  std::string follower_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::ChangeLog::Stub> stub_;
};

}  // namespace

std::unique_ptr<LogFollower> MakeGrpcLogFollower(const std::string& address,
                                                 const std::string& follower) {
  return std::make_unique<GrpcLogFollower>(address, follower);
}

}  // namespace sluice
