// ApiContext: what every gRPC method handler reads — the app's endpoints with their JSON and
// proto names, the cache, and the authenticator of api.auth. Built once by GrpcServer::Start
// and then only read, so handlers on any thread share it without locks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_store.h"
#include "cache/query_parser.h"
#include "server/auth/authenticator.h"
#include "server/endpoint.h"
#include "server/grpc/endpoint_proto.h"

namespace sluice::grpc_api {

struct ServedEndpoint {
  RestEndpoint endpoint;
  std::vector<std::string> json_prefixes;  // JsonFieldPrefixes(schema), for AppendRowJson
  EndpointProtoNames proto;
};

// An endpoint together with what the call's caller may do with it (call_auth.h).
struct AuthorizedEndpoint {
  const ServedEndpoint* served = nullptr;
  const EndpointAccess* access = nullptr;

  const RestEndpoint& endpoint() const { return served->endpoint; }
  // For AppendRowJson: the caller's visible fields only.
  const std::vector<std::string>& json_prefixes() const {
    return access->fields ? access->json_prefixes : served->json_prefixes;
  }
  // For AppendRecordWire: the columns the caller may see; null = all.
  const std::vector<bool>* shown_columns() const {
    return access->fields ? &*access->fields : nullptr;
  }
};

struct ApiContext {
  std::string app_name;
  const CacheStore* store = nullptr;
  const Authenticator* authenticator = nullptr;  // null: no api.auth, every call is allowed
  std::vector<ServedEndpoint> endpoints;

  // By endpoint name, or by REST path ("/orders"); nullptr when unknown.
  const ServedEndpoint* Find(std::string_view name) const {
    for (const auto& e : endpoints) {
      if (e.endpoint.name == name || e.endpoint.path == name) return &e;
    }
    return nullptr;
  }
  // NotFound listing the endpoints `caller` may use (all without auth).
  Status UnknownEndpoint(std::string_view name, const Caller* caller) const;
  // The endpoint `name` names and the caller's access to it: NotFound when there is no such
  // endpoint, PermissionDenied when the caller's token forbids it.
  Result<AuthorizedEndpoint> Authorize(std::string_view name, const Caller* caller) const;
  Result<AuthorizedEndpoint> Authorize(const ServedEndpoint& e, const Caller* caller) const;
};

// A filter object as Count and Subscribe take it ("$filter" in error paths, as in REST's
// count body); empty means every record.
inline Result<FilterNode> ParseOptionalFilter(const Schema& schema, std::string_view json) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return FilterNode{};
  return ParseFilterJson(schema, json, "$filter");
}

}  // namespace sluice::grpc_api
