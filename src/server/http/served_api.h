// ServedApi: the RestApi the HTTP server answers with right now. Replaced atomically when a
// new cache version takes over (control/runner.cc); a request or live stream keeps the
// RestApi (and through it the cache version) it started with alive until it ends.
#pragma once

#include <atomic>
#include <memory>

#include "server/http/rest_api.h"

namespace sluice {

class ServedApi {
 public:
  explicit ServedApi(std::shared_ptr<const RestApi> api) : api_(std::move(api)) {}
  std::shared_ptr<const RestApi> Get() const { return api_.load(std::memory_order_acquire); }
  void Set(std::shared_ptr<const RestApi> api) {
    api_.store(std::move(api), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const RestApi>> api_;
};

}  // namespace sluice
