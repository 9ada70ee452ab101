// Turns an endpoint's `indexes:` / `default_indexes:` config into the cache's index
// definitions over the endpoint's schema; errors point at the config entry.
#pragma once

#include <vector>

#include "cache/cache_store.h"
#include "common/status.h"
#include "config/config.h"
#include "types/schema.h"

namespace sluice {

Result<std::vector<IndexDefinition>> ResolveIndexes(const EndpointConfig& endpoint,
                                                    const Schema& schema);

}  // namespace sluice
