// GenericCalls: serves the methods that have no compiled stub — the per-endpoint typed
// services built at start-up, and sluice.v1.Sluice/Subscribe (JSON events through the same
// streaming path) — through gRPC's callback generic service, as raw request and response
// bytes. A method is either unary (request bytes -> response bytes) or a change stream.
// With an authenticator, every call is authenticated from its metadata before its request
// is read (refused: UNAUTHENTICATED) and handlers get the caller; without one, a null caller.
//
// Streams: each keeps at most one write in flight; the next message is taken from its
// ChangeStream when the write completes, or on a wake from the change feed, which is handed
// to a thread of its own (the feed's writer must never run gRPC or decoding work). A slow
// consumer therefore leaves events in the feed's bounded queue, which closes it when full.
//
// Thread-safety: handlers run on gRPC's callback threads (several at once); Add* only before
// the server starts; CloseStreams from any thread.
#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "server/auth/authenticator.h"
#include "server/grpc/change_stream.h"

namespace sluice::grpc_api {

class GenericCalls final : public grpc::CallbackGenericService {
 public:
  // `caller` is null without auth; a stream keeps it as long as it needs it.
  using UnaryHandler = std::function<Result<std::string>(
      const std::shared_ptr<const Caller>& caller, const std::string& request)>;
  using StreamHandler = std::function<Result<std::unique_ptr<ChangeStream>>(
      const std::shared_ptr<const Caller>& caller, const std::string& request,
      std::function<void()> wake)>;

  // `authenticator` (null: no auth) must outlive the calls.
  explicit GenericCalls(const Authenticator* authenticator);
  ~GenericCalls() override;

  // `method` is the full path, "/sluice.endpoints.OrdersService/Query".
  void AddUnary(std::string method, UnaryHandler handler);
  void AddStream(std::string method, StreamHandler handler);

  // Ends every open stream with `status` and refuses new ones (shutdown).
  void CloseStreams(const grpc::Status& status);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  struct Handler {
    UnaryHandler unary;
    StreamHandler stream;
  };
  class Call;
  class StreamState;
  class WakeThread;

  bool Register(const std::shared_ptr<StreamState>& stream);

  const Authenticator* const authenticator_;
  std::unordered_map<std::string, Handler> methods_;
  std::shared_ptr<WakeThread> wakes_;
  std::mutex streams_mu_;
  std::vector<std::weak_ptr<StreamState>> streams_;
  bool closed_ = false;
  grpc::Status close_status_;
};

}  // namespace sluice::grpc_api
