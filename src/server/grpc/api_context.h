// ApiContext: what every gRPC method handler reads — the app's endpoints with their JSON and
// proto names, and the cache. Built once by GrpcServer::Start and then only read, so handlers
// on any thread share it without locks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_store.h"
#include "cache/query_parser.h"
#include "server/endpoint.h"
#include "server/grpc/endpoint_proto.h"

namespace sluice::grpc_api {

struct ServedEndpoint {
  RestEndpoint endpoint;
  std::vector<std::string> json_prefixes;  // JsonFieldPrefixes(schema), for AppendRowJson
  EndpointProtoNames proto;
};

struct ApiContext {
  std::string app_name;
  const CacheStore* store = nullptr;
  std::vector<ServedEndpoint> endpoints;

  // By endpoint name, or by REST path ("/orders"); nullptr when unknown.
  const ServedEndpoint* Find(std::string_view name) const {
    for (const auto& e : endpoints) {
      if (e.endpoint.name == name || e.endpoint.path == name) return &e;
    }
    return nullptr;
  }
  Status UnknownEndpoint(std::string_view name) const {
    std::string known;
    for (const auto& e : endpoints) known += (known.empty() ? "" : ", ") + e.endpoint.name;
    return NotFound("unknown endpoint '" + std::string(name) + "' (endpoints: " + known + ")");
  }
};

// A filter object as Count and Subscribe take it ("$filter" in error paths, as in REST's
// count body); empty means every record.
inline Result<FilterNode> ParseOptionalFilter(const Schema& schema, std::string_view json) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return FilterNode{};
  return ParseFilterJson(schema, json, "$filter");
}

}  // namespace sluice::grpc_api
