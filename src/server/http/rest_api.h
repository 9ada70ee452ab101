// RestApi: the REST contract (docs/rest.md) as a plain function from request to response, so
// the routing, validation and JSON shapes are testable without sockets. HttpServer feeds it.
// Thread-safety: Handle() is const and may run on every server thread at once; each call
// opens its own cache read view.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cache/cache_store.h"
#include "cache/query.h"
#include "cache/query_parser.h"
#include "server/auth/authenticator.h"
#include "server/endpoint.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query string, as sent
  std::string body;
  std::string authorization = {};  // the Authorization header, if any
};

// JWT authorization (docs/auth.md); without an authenticator every route is open.
struct RestAuth {
  const Authenticator* authenticator = nullptr;
  // For POST /auth/token: tokens are signed with the HS256 secret (empty: minting is off).
  std::string secret;
  std::string audience;
  std::string issuer;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// A parsed `GET {path}/live?filter=<json>&snapshot=true|false` request.
struct LiveRoute {
  const RestEndpoint* endpoint = nullptr;
  FilterNode filter;  // the request's, ANDed with the caller's row filter
  bool snapshot = true;
  std::vector<std::string> json_prefixes;  // the caller's visible fields (row_json.h)
  int64_t token_expires_at = 0;            // unix seconds; the stream ends then (0: no token)
};

class RestApi {
 public:
  static constexpr uint64_t kDefaultLimit = 50;
  static constexpr uint64_t kMaxLimit = 10000;

  RestApi(std::string app_name, const CacheStore& store, std::vector<RestEndpoint> endpoints,
          RestAuth auth = {});

  HttpResponse Handle(const HttpRequest& request) const;

  // For `GET {path}/live`: the route, or the error response to send; nullopt for any other
  // request (which Handle answers).
  std::optional<std::variant<LiveRoute, HttpResponse>> MatchLive(const HttpRequest& request) const;
  const CacheStore& store() const { return store_; }

  // An error response in the contract's shape: {"error": {"code": ..., "message": ...}}.
  static HttpResponse Error(int status, std::string_view message);

 private:
  // The caller (null without auth), or the 401 to send.
  std::variant<std::shared_ptr<const Caller>, HttpResponse> Authenticate(
      const HttpRequest& request) const;
  const std::vector<std::string>& Prefixes(const RestEndpoint& e,
                                           const EndpointAccess& access) const;

  HttpResponse Index(const Caller* caller) const;
  HttpResponse MintToken(const Caller* caller, const std::string& body) const;
  HttpResponse List(const RestEndpoint& e, const EndpointAccess& access,
                    std::string_view query_string) const;
  HttpResponse GetById(const RestEndpoint& e, const EndpointAccess& access,
                       std::string_view id) const;
  HttpResponse Rows(const RestEndpoint& e, const EndpointAccess& access, QuerySpec spec) const;
  HttpResponse QueryRoute(const RestEndpoint& e, const EndpointAccess& access,
                          const std::string& body, QueryBodyKind kind) const;

  std::string app_name_;
  std::string openapi_json_;  // BuildOpenApiDocument, built once
  const CacheStore& store_;
  std::vector<RestEndpoint> endpoints_;
  std::vector<std::vector<std::string>> field_prefixes_;  // per endpoint: "\"name\":" per field
  RestAuth auth_;
};

}  // namespace sluice
