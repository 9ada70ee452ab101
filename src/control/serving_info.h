// What a cache version is served as — its tables (schemas, indexes) and endpoints (names,
// paths) — stored inside the version, so an old version can keep answering with its own
// definitions while a new one is built under changed ones (cache/cache_versions.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_store.h"
#include "common/status.h"
#include "server/endpoint.h"

namespace sluice {

struct ServingInfo {
  std::vector<TableDefinition> tables;
  std::vector<RestEndpoint> endpoints;  // schema copied from tables[cache_table]
};

std::string EncodeServingInfo(const ServingInfo& info);
Result<ServingInfo> DecodeServingInfo(std::string_view bytes);

}  // namespace sluice
