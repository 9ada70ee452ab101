// LogClient: follows an app's change log over gRPC (log_server.h) — the LogFollower of
// `sluice run api --app host:port`.
#pragma once

#include <memory>
#include <string>

#include "log/log_follower.h"

namespace sluice {

// `follower` names this API node to the app (its retention waits for it).
std::unique_ptr<LogFollower> MakeGrpcLogFollower(const std::string& address,
                                                 const std::string& follower);

}  // namespace sluice
