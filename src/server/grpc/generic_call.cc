#include "server/grpc/generic_call.h"

#include <condition_variable>
#include <deque>
#include <optional>
#include <thread>

#include "server/grpc/call_auth.h"
#include "server/grpc/grpc_status.h"

namespace sluice::grpc_api {
namespace {

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

// Runs the streams' wake-ups (Pump) off the feed writer's thread. Holds streams weakly: a
// stream that ended meanwhile is skipped.
class GenericCalls::WakeThread {
 public:
  WakeThread() : thread_([this] { Run(); }) {}
  ~WakeThread() { Stop(); }

  // Joins the thread; later posts are dropped. Subscriptions may hold this object longer
  // than GenericCalls, so GenericCalls stops it: the last reference can then never be
  // dropped on the thread itself.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_one();
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
      // Only if GenericCalls never stopped it: do not join yourself.
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  void Post(std::weak_ptr<StreamState> stream) {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      queue_.push_back(std::move(stream));
    }
    cv_.notify_one();
  }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::weak_ptr<StreamState>> queue_;
  bool stopped_ = false;
  std::thread thread_;
};

// The streaming half of a call, shared with the wake thread. `call_` may be used only while
// finish_called_ is false: gRPC keeps a reactor alive until it was finished and done.
class GenericCalls::StreamState {
 public:
  explicit StreamState(Call* call) : call_(call) {}

  void Start(std::unique_ptr<ChangeStream> stream) {
    {
      std::lock_guard lock(mu_);
      stream_ = std::move(stream);
    }
    Pump();
  }

  // Sends what is ready, or finishes the call when asked to or when the stream ended.
  void Pump();

  void RequestFinish(const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      if (!finish_wanted_) finish_wanted_ = status;
    }
    Pump();
  }

  void OnWriteDone(bool ok) {
    {
      std::lock_guard lock(mu_);
      write_in_flight_ = false;
      if (!ok && !finish_wanted_) {
        finish_wanted_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      }
    }
    Pump();
  }

  // OnDone: the reactor is about to go; drop the subscription now.
  void Detach() {
    std::unique_ptr<ChangeStream> stream;
    std::lock_guard lock(mu_);
    finish_called_ = true;
    call_ = nullptr;
    stream = std::move(stream_);
  }

 private:
  void FinishLocked(std::unique_lock<std::mutex>& lock, grpc::Status status);

  std::mutex mu_;
  Call* call_;
  std::unique_ptr<ChangeStream> stream_;
  grpc::ByteBuffer out_;
  bool write_in_flight_ = false;
  bool finish_called_ = false;
  std::optional<grpc::Status> finish_wanted_;
};

class GenericCalls::Call final : public grpc::ServerGenericBidiReactor {
 public:
  Call(GenericCalls* owner, const Handler* handler, const grpc::GenericCallbackServerContext& ctx)
      : owner_(owner), handler_(handler) {
    // As REST: who calls is settled before anything else, even an unknown method.
    Result<std::shared_ptr<const Caller>> caller = AuthenticateCall(owner_->authenticator_, ctx);
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    caller_ = std::move(*caller);
    if (handler_ == nullptr) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx.method()));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "the call ended before its request message"));
      return;
    }
    std::string request = Flatten(request_);
    if (handler_->unary) {
      Result<std::string> response = handler_->unary(caller_, request);
      if (!response.ok()) {
        Finish(ToGrpcStatus(response.status()));
        return;
      }
      response_ = ToByteBuffer(*response);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      return;
    }
    auto state = std::make_shared<StreamState>(this);
    std::weak_ptr<StreamState> weak = state;
    auto wake = [weak, wakes = owner_->wakes_] { wakes->Post(weak); };
    Result<std::unique_ptr<ChangeStream>> stream =
        handler_->stream(caller_, request, std::move(wake));
    if (!stream.ok()) {
      Finish(ToGrpcStatus(stream.status()));
      return;
    }
    bool cancelled;
    {
      std::lock_guard lock(mu_);
      state_ = state;
      cancelled = cancelled_;
    }
    // Subscribed: tell the client, so it knows that later changes will arrive.
    StartSendInitialMetadata();
    state->Start(std::move(*stream));
    if (!owner_->Register(state)) state->RequestFinish(owner_->close_status_);
    if (cancelled) state->RequestFinish(Cancelled());
  }

  void OnWriteDone(bool ok) override {
    if (auto state = State()) state->OnWriteDone(ok);
  }

  void OnCancel() override {
    std::shared_ptr<StreamState> state;
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      state = state_;
    }
    if (state) state->RequestFinish(Cancelled());
  }

  void OnDone() override {
    if (auto state = State()) state->Detach();
    delete this;
  }

 private:
  GenericCalls* owner_;
  const Handler* handler_;
  std::shared_ptr<const Caller> caller_;  // null without auth
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  // Reactions may run concurrently: state_ is set by OnReadDone while OnCancel may arrive.
  std::mutex mu_;
  std::shared_ptr<StreamState> state_;
  bool cancelled_ = false;

  std::shared_ptr<StreamState> State() {
    std::lock_guard lock(mu_);
    return state_;
  }
  static grpc::Status Cancelled() {
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client");
  }
};

void GenericCalls::WakeThread::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
    if (stopped_) return;
    std::weak_ptr<StreamState> next = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    if (std::shared_ptr<StreamState> stream = next.lock()) stream->Pump();
    lock.lock();
  }
}

void GenericCalls::StreamState::FinishLocked(std::unique_lock<std::mutex>& lock,
                                             grpc::Status status) {
  finish_called_ = true;
  Call* call = call_;
  lock.unlock();
  call->Finish(std::move(status));
}

void GenericCalls::StreamState::Pump() {
  std::unique_lock lock(mu_);
  if (finish_called_ || write_in_flight_) return;
  if (finish_wanted_) return FinishLocked(lock, *finish_wanted_);
  if (!stream_) return;
  Result<std::optional<std::string>> next = stream_->Next();
  if (!next.ok()) return FinishLocked(lock, ToGrpcStatus(next.status()));
  if (!next->has_value()) {
    if (stream_->end()) FinishLocked(lock, ToGrpcStatus(*stream_->end()));
    return;
  }
  out_ = ToByteBuffer(**next);
  write_in_flight_ = true;
  grpc::WriteOptions options;
  if (stream_->has_ready()) options.set_buffer_hint();  // more follows at once: coalesce
  Call* call = call_;
  lock.unlock();
  call->StartWrite(&out_, options);
}

GenericCalls::GenericCalls(const Authenticator* authenticator)
    : authenticator_(authenticator), wakes_(std::make_shared<WakeThread>()) {}

GenericCalls::~GenericCalls() { wakes_->Stop(); }

void GenericCalls::AddUnary(std::string method, UnaryHandler handler) {
  methods_[std::move(method)] = Handler{std::move(handler), nullptr};
}

void GenericCalls::AddStream(std::string method, StreamHandler handler) {
  methods_[std::move(method)] = Handler{nullptr, std::move(handler)};
}

bool GenericCalls::Register(const std::shared_ptr<StreamState>& stream) {
  std::lock_guard lock(streams_mu_);
  if (closed_) return false;
  std::erase_if(streams_, [](const auto& s) { return s.expired(); });
  streams_.push_back(stream);
  return true;
}

void GenericCalls::CloseStreams(const grpc::Status& status) {
  std::vector<std::weak_ptr<StreamState>> streams;
  {
    std::lock_guard lock(streams_mu_);
    closed_ = true;
    close_status_ = status;
    streams.swap(streams_);
  }
  for (const auto& weak : streams) {
    if (auto stream = weak.lock()) stream->RequestFinish(status);
  }
}

grpc::ServerGenericBidiReactor* GenericCalls::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  auto it = methods_.find(ctx->method());
  return new Call(this, it == methods_.end() ? nullptr : &it->second, *ctx);
}

}  // namespace sluice::grpc_api
