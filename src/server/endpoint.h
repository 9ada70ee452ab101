// RestEndpoint: one served endpoint as every reader sees it (REST, gRPC, OpenAPI): its name,
// REST path, the table that fills it, the schema of its records and the cache table holding
// them. Built once by the pipeline and shared read-only by the servers.
#pragma once

#include <cstdint>
#include <string>

#include "types/schema.h"

namespace sluice {

struct RestEndpoint {
  std::string name;
  std::string path;
  std::string table;  // what fills it (a source today)
  Schema schema;
  uint32_t cache_table = 0;
};

}  // namespace sluice
