#include "server/http/rest_api.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <functional>

#include "cache/query.h"
#include "cache/query_parser.h"
#include "common/clock.h"
#include "server/auth/jwt.h"
#include "server/http/openapi.h"
#include "server/http/swagger_ui.h"
#include "types/row_codec.h"
#include "types/row_json.h"
#include "types/time_util.h"
#include "types/value_text.h"

namespace sluice {
namespace {

std::string_view ErrorCodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 503:
      return "unavailable";
    default:
      return "internal";
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of a path segment or query value; '+' is a space only in query strings.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<uint64_t> ParseCount(std::string_view name, std::string_view text) {
  uint64_t v;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument(std::string(name) + ": expected a non-negative integer, got '" +
                           std::string(text) + "'");
  }
  return v;
}

Result<uint64_t> ParseLimit(std::string_view name, std::string_view text) {
  ASSIGN_OR_RETURN(uint64_t limit, ParseCount(name, text));
  if (limit > RestApi::kMaxLimit) {
    return InvalidArgument(std::string(name) + ": must be at most " +
                           std::to_string(RestApi::kMaxLimit));
  }
  return limit;
}

std::string JsonQuoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

HttpResponse FromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return RestApi::Error(400, s.message());
    case StatusCode::kNotFound:
      return RestApi::Error(404, s.message());
    case StatusCode::kPermissionDenied:
      return RestApi::Error(403, s.message());
    case StatusCode::kUnavailable:
      return RestApi::Error(503, s.message());
    default:
      spdlog::error("request failed: {}", s.ToString());
      return RestApi::Error(500, "internal error: " + s.message());
  }
}

const QueryLimits kLimits{RestApi::kDefaultLimit, RestApi::kMaxLimit};

// The query-string form of a query: filter=<json>&order_by=<json or col:desc,..>&limit=&skip=
// &after=<cursor>. Errors name the parameter.
// Calls `handle(name, decoded value)` for each parameter of a query string, stopping at the
// first error.
Status ForEachQueryParameter(
    std::string_view query_string,
    const std::function<Status(std::string_view name, const std::string& value)>& handle) {
  while (!query_string.empty()) {
    size_t amp = query_string.find('&');
    std::string_view pair = query_string.substr(0, amp);
    query_string = amp == std::string_view::npos ? "" : query_string.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!value) {
      return InvalidArgument("malformed percent-encoding in query parameter " + std::string(name));
    }
    RETURN_IF_ERROR(handle(name, *value));
  }
  return Status::OK();
}

Result<QuerySpec> ParseQueryString(const RestEndpoint& e, std::string_view query_string) {
  QuerySpec spec;
  spec.limit = RestApi::kDefaultLimit;
  RETURN_IF_ERROR(ForEachQueryParameter(
      query_string, [&](std::string_view name, const std::string& value) -> Status {
        if (name == "limit") {
          ASSIGN_OR_RETURN(spec.limit, ParseLimit("limit", value));
        } else if (name == "skip") {
          ASSIGN_OR_RETURN(spec.skip, ParseCount("skip", value));
        } else if (name == "filter") {
          ASSIGN_OR_RETURN(spec.filter, ParseFilterJson(e.schema, value, "filter"));
        } else if (name == "order_by") {
          ASSIGN_OR_RETURN(spec.order_by, ParseOrderBy(e.schema, value, "order_by"));
        } else if (name == "after") {
          spec.after = value;
        } else {
          return InvalidArgument("unknown query parameter '" + std::string(name) +
                                 "' (expected filter, order_by, limit, skip, after)");
        }
        return Status::OK();
      }));
  return spec;
}

}  // namespace

RestApi::RestApi(std::string app_name, const CacheStore& store, std::vector<RestEndpoint> endpoints,
                 RestAuth auth)
    : app_name_(std::move(app_name)),
      store_(store),
      endpoints_(std::move(endpoints)),
      auth_(std::move(auth)) {
  openapi_json_ = BuildOpenApiDocument(app_name_, endpoints_,  // in config order
                                       auth_.authenticator != nullptr);
  // Longest paths first, so /a/b wins over /a for "/a/b/1".
  std::sort(endpoints_.begin(), endpoints_.end(), [](const RestEndpoint& a, const RestEndpoint& b) {
    return a.path.size() > b.path.size();
  });
  for (const auto& e : endpoints_) field_prefixes_.push_back(JsonFieldPrefixes(e.schema));
}

HttpResponse RestApi::Error(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = "{\"error\":{\"code\":\"" + std::string(ErrorCodeFor(status)) + "\",\"message\":";
  AppendJsonString(message, &r.body);
  r.body += "}}";
  return r;
}

HttpResponse RestApi::Handle(const HttpRequest& request) const {
  std::string_view target = request.target;
  std::string_view query_string;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    query_string = target.substr(q + 1);
    target = target.substr(0, q);
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  auto not_allowed = [&](const char* allow) {
    HttpResponse r = Error(405, std::string("method ") + request.method + " is not allowed on " +
                                    std::string(target) + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  if (target == "/health") {
    if (!get) return not_allowed("GET");
    HttpResponse ok;
    ok.body = "{\"status\":\"ok\"}";
    return ok;
  }
  auto authenticated = Authenticate(request);
  if (auto* refused = std::get_if<HttpResponse>(&authenticated)) return std::move(*refused);
  const Caller* caller = std::get<std::shared_ptr<const Caller>>(authenticated).get();
  if (target == "/") return get ? Index(caller) : not_allowed("GET");
  if (target == "/auth/token") return post ? MintToken(caller, request.body) : not_allowed("POST");
  if (target == "/openapi.json") {
    if (!get) return not_allowed("GET");
    HttpResponse r;
    r.body = openapi_json_;
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  if (target == "/docs" || target.starts_with("/docs/")) {
    if (!get) return not_allowed("GET");
    if (auto r = ServeSwaggerUi(target)) return *std::move(r);
    return Error(404, "no such file: " + std::string(target));
  }

  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const RestEndpoint& e = endpoints_[i];
    if (!target.starts_with(e.path)) continue;
    std::string_view rest = target.substr(e.path.size());
    if (!rest.empty() && rest != "/" && rest[0] != '/') continue;
    auto allowed = AccessTo(caller, e);
    if (!allowed.ok()) return FromStatus(allowed.status());
    const EndpointAccess* access = *allowed;
    if (rest.empty() || rest == "/") {
      return get ? List(e, *access, query_string) : not_allowed("GET");
    }
    rest.remove_prefix(1);
    const bool query_route = rest == "query" || rest == "count" || rest == "explain";
    if (post && query_route) {
      return QueryRoute(e, *access, request.body,
                        rest == "query"   ? QueryBodyKind::kQuery
                        : rest == "count" ? QueryBodyKind::kCount
                                          : QueryBodyKind::kExplain);
    }
    if (rest.find('/') != std::string_view::npos) break;
    if (query_route && !get) return not_allowed("POST");
    if (!get) return not_allowed("GET");
    auto id = PercentDecode(rest, false);
    if (!id) return Error(400, "malformed percent-encoding in id '" + std::string(rest) + "'");
    return GetById(e, *access, *id);
  }
  return Error(404, "no route for " + std::string(target) + " (GET / lists the endpoints)");
}

std::optional<std::variant<LiveRoute, HttpResponse>> RestApi::MatchLive(
    const HttpRequest& request) const {
  std::string_view target = request.target;
  std::string_view query_string;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    query_string = target.substr(q + 1);
    target = target.substr(0, q);
  }
  if (!target.ends_with("/live")) return std::nullopt;
  target.remove_suffix(5);
  for (const RestEndpoint& e : endpoints_) {
    if (e.path != target) continue;
    if (request.method != "GET") {
      HttpResponse r = Error(405, "method " + request.method + " is not allowed on " +
                                      std::string(request.target) + " (allowed: GET)");
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    auto authenticated = Authenticate(request);
    if (auto* refused = std::get_if<HttpResponse>(&authenticated)) return std::move(*refused);
    const Caller* caller = std::get<std::shared_ptr<const Caller>>(authenticated).get();
    auto allowed = AccessTo(caller, e);
    if (!allowed.ok()) return FromStatus(allowed.status());
    const EndpointAccess* access = *allowed;
    LiveRoute route;
    route.endpoint = &e;
    route.json_prefixes = Prefixes(e, *access);
    if (caller) route.token_expires_at = caller->expires_at;
    Status parsed = ForEachQueryParameter(
        query_string, [&](std::string_view name, const std::string& value) -> Status {
          if (name == "filter") {
            ASSIGN_OR_RETURN(route.filter, ParseFilterJson(e.schema, value, "filter"));
          } else if (name == "snapshot" && (value == "true" || value == "false")) {
            route.snapshot = value == "true";
          } else if (name == "snapshot") {
            return InvalidArgument("snapshot: expected true or false, got '" + value + "'");
          } else {
            return InvalidArgument("unknown query parameter '" + std::string(name) +
                                   "' (expected filter, snapshot)");
          }
          return Status::OK();
        });
    if (!parsed.ok()) return FromStatus(parsed);
    if (Status s = AccessPolicy::Apply(*access, e, &route.filter); !s.ok()) return FromStatus(s);
    return route;
  }
  return std::nullopt;
}

std::variant<std::shared_ptr<const Caller>, HttpResponse> RestApi::Authenticate(
    const HttpRequest& request) const {
  if (!auth_.authenticator) return std::shared_ptr<const Caller>();
  auto caller = auth_.authenticator->Authenticate(request.authorization);
  if (caller.ok()) return std::move(*caller);
  // RFC 6750: no error code when no credentials came; the reason is one of a fixed few.
  const std::string& reason = caller.status().message();
  HttpResponse r = Error(401, reason);
  std::string challenge = "Bearer realm=\"" + app_name_ + "\"";
  if (reason != "missing token") {
    challenge += ", error=\"invalid_token\", error_description=\"" + reason + "\"";
  }
  r.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return r;
}

const std::vector<std::string>& RestApi::Prefixes(const RestEndpoint& e,
                                                  const EndpointAccess& access) const {
  if (access.fields) return access.json_prefixes;
  return field_prefixes_[size_t(&e - endpoints_.data())];
}

HttpResponse RestApi::MintToken(const Caller* caller, const std::string& body) const {
  if (!auth_.authenticator || auth_.secret.empty()) {
    return Error(404, "POST /auth/token needs api.auth.jwt_secret: tokens are signed with it");
  }
  if (!caller->policy.all()) return Error(403, "only an all-access token may mint tokens");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) return Error(400, "body is not valid JSON");
  simdjson::dom::object object;
  if (root.get(object)) return Error(400, "body must be an object {\"access\": .., \"ttl\": ..}");
  std::string access_json;
  std::string ttl_text = "1h";
  for (auto [key, value] : object) {
    if (key == "access") {
      access_json = simdjson::minify(value);
    } else if (key == "ttl") {
      std::string_view text;
      if (value.get(text)) return Error(400, "ttl: expected a duration string such as \"15m\"");
      ttl_text = std::string(text);
    } else {
      return Error(400, "unknown key '" + std::string(key) + "' (expected access, ttl)");
    }
  }
  if (access_json.empty()) return Error(400, "access: required (\"all\" or {\"endpoints\": ..})");
  auto policy = AccessPolicy::Parse(access_json, endpoints_);
  if (!policy.ok()) return FromStatus(policy.status());
  auto ttl = ParseDuration(ttl_text);
  if (!ttl.ok()) return Error(400, "ttl: " + ttl.status().message());
  const int64_t now = UnixSeconds();
  // A minted token never outlives the one that minted it.
  const int64_t seconds = std::min<int64_t>(*ttl / kMicrosPerSecond, caller->expires_at - now);
  if (seconds <= 0) return Error(400, "ttl: must be at least one second");
  auto token = IssueToken(auth_.secret, access_json, seconds, now, caller->subject, auth_.audience,
                          auth_.issuer);
  if (!token.ok()) return FromStatus(token.status());
  HttpResponse r;
  r.body =
      "{\"token\":" + JsonQuoted(*token) + ",\"expires_at\":" + std::to_string(now + seconds) + "}";
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse RestApi::Index(const Caller* caller) const {
  HttpResponse r;
  r.body = "{\"app\":" + JsonQuoted(app_name_) + ",\"endpoints\":[";
  std::vector<const RestEndpoint*> by_name;
  for (const auto& e : endpoints_) {
    if (AccessTo(caller, e).ok()) by_name.push_back(&e);
  }
  std::sort(by_name.begin(), by_name.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (size_t i = 0; i < by_name.size(); ++i) {
    const RestEndpoint& e = *by_name[i];
    if (i) r.body += ",";
    r.body += "{\"name\":" + JsonQuoted(e.name) + ",\"path\":" + JsonQuoted(e.path) +
              ",\"table\":" + JsonQuoted(e.table) + ",\"primary_key\":";
    if (e.schema.has_primary_key()) {
      r.body += "[";
      for (size_t k = 0; k < e.schema.primary_key.size(); ++k) {
        if (k) r.body += ",";
        r.body += JsonQuoted(e.schema.fields[e.schema.primary_key[k]].name);
      }
      r.body += "]";
    } else {
      r.body += "null";
    }
    r.body += ",\"fields\":[";
    const EndpointAccess& access = **AccessTo(caller, e);
    bool first = true;
    for (size_t f = 0; f < e.schema.fields.size(); ++f) {
      const Field& field = e.schema.fields[f];
      if (!access.Allows(f)) continue;
      if (!first) r.body += ",";
      first = false;
      r.body += "{\"name\":" + JsonQuoted(field.name) + ",\"type\":\"" +
                std::string(FieldTypeName(field.type)) +
                "\",\"nullable\":" + (field.nullable ? "true" : "false") + "}";
    }
    r.body += "]}";
  }
  r.body += "]}";
  return r;
}

HttpResponse RestApi::List(const RestEndpoint& e, const EndpointAccess& access,
                           std::string_view query_string) const {
  auto spec = ParseQueryString(e, query_string);
  if (!spec.ok()) return FromStatus(spec.status());
  return Rows(e, access, std::move(*spec));
}

HttpResponse RestApi::Rows(const RestEndpoint& e, const EndpointAccess& access,
                           QuerySpec spec) const {
  if (Status s = AccessPolicy::Apply(access, e, &spec); !s.ok()) return FromStatus(s);
  const std::vector<std::string>& prefixes = Prefixes(e, access);
  auto view = store_.BeginRead();
  if (!view.ok()) return FromStatus(view.status());
  HttpResponse r;
  r.body.push_back('[');
  bool first = true;
  Status row_status;
  std::optional<std::string> cursor;
  Status s = RunQuery(
      *view, e.cache_table, spec,
      [&](std::string_view row) {
        if (!first) r.body.push_back(',');
        row_status = AppendRowJson(e.schema, row, prefixes, &r.body);
        if (first) {
          // Size the page from its first row once, instead of regrowing the body ~10 times.
          r.body.reserve(r.body.size() * size_t(std::min<uint64_t>(spec.limit, 128)) + 64);
          first = false;
        }
        return row_status.ok();
      },
      &cursor);
  if (s.ok()) s = row_status;
  if (!s.ok()) return FromStatus(s);
  r.body.push_back(']');
  if (cursor) r.headers.emplace_back("X-Sluice-Cursor", std::move(*cursor));
  return r;
}

HttpResponse RestApi::GetById(const RestEndpoint& e, const EndpointAccess& access,
                              std::string_view id) const {
  if (!e.schema.has_primary_key()) {
    return Error(404, "endpoint " + e.name +
                          " has no primary key, so rows cannot be fetched by id; "
                          "use POST " +
                          e.path + "/query with a $filter");
  }
  if (e.schema.primary_key.size() != 1) {
    return Error(404, "endpoint " + e.name + " has a composite primary key; use POST " + e.path +
                          "/query with a $filter on every key column");
  }
  const size_t key_column = e.schema.primary_key[0];
  const Field& key_field = e.schema.fields[key_column];
  if (!access.Allows(key_column)) {
    return Error(403, "field '" + key_field.name + "' of endpoint " + e.name +
                          " is not accessible, so rows cannot be fetched by it");
  }
  auto key = ParseValueText(key_field.type, id);
  if (!key.ok()) {
    return Error(400, "id: " + key.status().message() + " for primary key " + key_field.name);
  }
  auto view = store_.BeginRead();
  if (!view.ok()) return FromStatus(view.status());
  auto row = GetByKey(*view, e.cache_table, {*key});
  if (!row.ok()) return FromStatus(row.status());
  auto not_found = [&] {
    return Error(404, "no " + e.name + " record with " + key_field.name + " = " + std::string(id));
  };
  if (!*row) return not_found();
  if (access.filter.op != FilterNode::Op::kTrue) {
    // Rows outside the caller's filter do not exist for it.
    auto record = DecodeRow(e.schema, **row);
    if (!record.ok()) return FromStatus(record.status());
    if (!FilterMatches(access.filter, e.schema, *record)) return not_found();
  }
  HttpResponse r;
  Status s = AppendRowJson(e.schema, **row, Prefixes(e, access), &r.body);
  if (!s.ok()) return FromStatus(s);
  return r;
}

HttpResponse RestApi::QueryRoute(const RestEndpoint& e, const EndpointAccess& access,
                                 const std::string& body, QueryBodyKind kind) const {
  auto spec = ParseQueryJson(e.schema, body, kind, kLimits);
  if (!spec.ok()) return FromStatus(spec.status());
  if (kind == QueryBodyKind::kQuery) return Rows(e, access, std::move(*spec));
  if (Status s = AccessPolicy::Apply(access, e, &*spec); !s.ok()) return FromStatus(s);
  auto view = store_.BeginRead();
  if (!view.ok()) return FromStatus(view.status());
  HttpResponse r;
  if (kind == QueryBodyKind::kExplain) {
    auto plan = ExplainQuery(*view, e.cache_table, *spec);
    if (!plan.ok()) return FromStatus(plan.status());
    r.body = std::move(*plan);
    return r;
  }
  auto n = CountPage(*view, e.cache_table, *spec);
  if (!n.ok()) return FromStatus(n.status());
  r.body = "{\"count\":" + std::to_string(*n) + "}";
  return r;
}

}  // namespace sluice
