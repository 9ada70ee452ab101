// ApiServers: the readers' servers over one cache version — REST always, gRPC when api.grpc is
// configured — and the atomic move to another version (a rebuilt cache): REST switches at
// once, gRPC restarts on its port, live subscribers of the old version are told to reconnect.
// Used by `sluice run` and `sluice run api`. Thread-safety: one controlling thread.
#pragma once

#include <memory>
#include <vector>

#include "cache/cache_store.h"
#include "config/config.h"
#include "server/endpoint.h"

namespace sluice {

class ApiServers {
 public:
  explicit ApiServers(const Config& config);
  ~ApiServers();  // stops

  Status Start(std::shared_ptr<CacheStore> store, std::vector<RestEndpoint> endpoints);
  // Serves `store` from now on; `reason` is told to live subscribers of the previous version.
  Status Switch(std::shared_ptr<CacheStore> store, std::vector<RestEndpoint> endpoints,
                const std::string& reason);
  void Stop();
  int rest_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
