#include "server/http/rest_api.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "cache/query.h"
#include "types/row_json.h"
#include "types/value_text.h"

namespace sluice {
namespace {

std::string_view ErrorCodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
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
    case StatusCode::kUnavailable:
      return RestApi::Error(503, s.message());
    default:
      spdlog::error("request failed: {}", s.ToString());
      return RestApi::Error(500, "internal error: " + s.message());
  }
}

thread_local simdjson::dom::parser tls_parser;

// Parses {"$filter": {...}, "$limit": n, "$skip": n}; paths in errors follow the body.
Result<Query> ParseQueryBody(const RestEndpoint& e, const std::string& body, bool count) {
  Query query;
  query.limit = RestApi::kDefaultLimit;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return query;
  auto doc = tls_parser.parse(body);
  if (doc.error()) {
    return InvalidArgument("body is not valid JSON: " +
                           std::string(simdjson::error_message(doc.error())));
  }
  simdjson::dom::object root;
  if (doc.get(root)) return InvalidArgument("body must be a JSON object");
  for (auto [key, value] : root) {
    if (key == "$filter") {
      simdjson::dom::object filter;
      if (value.get(filter)) return InvalidArgument("$filter: expected an object");
      for (auto [column, expected] : filter) {
        std::string path = "$filter." + std::string(column);
        auto index = e.schema.FindField(column);
        if (!index) return InvalidArgument(path + ": unknown field '" + std::string(column) + "'");
        if (expected.type() == simdjson::dom::element_type::OBJECT ||
            expected.type() == simdjson::dom::element_type::ARRAY) {
          if (e.schema.fields[*index].type != FieldType::kJson &&
              e.schema.fields[*index].type != FieldType::kPoint) {
            return InvalidArgument(path + ": only equality with a plain value is supported");
          }
        }
        auto v = ValueFromJson(e.schema.fields[*index].type, expected);
        if (!v.ok()) return InvalidArgument(path + ": " + v.status().message());
        query.filter.terms.emplace_back(*index, std::move(*v));
      }
    } else if ((key == "$limit" || key == "$skip") && !count) {
      uint64_t n;
      if (value.get(n)) {
        return InvalidArgument(std::string(key) + ": expected a non-negative integer");
      }
      if (key == "$limit") {
        if (n > RestApi::kMaxLimit) {
          return InvalidArgument("$limit: must be at most " + std::to_string(RestApi::kMaxLimit));
        }
        query.limit = n;
      } else {
        query.skip = n;
      }
    } else {
      return InvalidArgument("unknown key '" + std::string(key) + "' (expected " +
                             (count ? "$filter" : "$filter, $limit, $skip") + ")");
    }
  }
  return query;
}

}  // namespace

RestApi::RestApi(std::string app_name, const CacheStore& store, std::vector<RestEndpoint> endpoints)
    : app_name_(std::move(app_name)), store_(store), endpoints_(std::move(endpoints)) {
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
  if (target == "/") return get ? Index() : not_allowed("GET");
  if (target == "/health") {
    if (!get) return not_allowed("GET");
    HttpResponse ok;
    ok.body = "{\"status\":\"ok\"}";
    return ok;
  }

  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const RestEndpoint& e = endpoints_[i];
    if (!target.starts_with(e.path)) continue;
    std::string_view rest = target.substr(e.path.size());
    if (rest.empty() || rest == "/") return get ? List(e, query_string) : not_allowed("GET");
    if (rest[0] != '/') continue;
    rest.remove_prefix(1);
    if (post && (rest == "query" || rest == "count")) {
      return QueryOrCount(e, request.body, rest == "count");
    }
    if (rest.find('/') != std::string_view::npos) break;
    if (rest == "query" || rest == "count") {
      if (!get) return not_allowed("POST");
    }
    if (!get) return not_allowed("GET");
    auto id = PercentDecode(rest, false);
    if (!id) return Error(400, "malformed percent-encoding in id '" + std::string(rest) + "'");
    return GetById(e, *id);
  }
  return Error(404, "no route for " + std::string(target) + " (GET / lists the endpoints)");
}

HttpResponse RestApi::Index() const {
  HttpResponse r;
  r.body = "{\"app\":" + JsonQuoted(app_name_) + ",\"endpoints\":[";
  std::vector<const RestEndpoint*> by_name;
  for (const auto& e : endpoints_) by_name.push_back(&e);
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
    for (size_t f = 0; f < e.schema.fields.size(); ++f) {
      const Field& field = e.schema.fields[f];
      if (f) r.body += ",";
      r.body += "{\"name\":" + JsonQuoted(field.name) + ",\"type\":\"" +
                std::string(FieldTypeName(field.type)) +
                "\",\"nullable\":" + (field.nullable ? "true" : "false") + "}";
    }
    r.body += "]}";
  }
  r.body += "]}";
  return r;
}

Status RestApi::AppendRow(const RestEndpoint& e, std::string_view row, std::string* out) const {
  return AppendRowJson(e.schema, row, field_prefixes_[size_t(&e - endpoints_.data())], out);
}

HttpResponse RestApi::List(const RestEndpoint& e, std::string_view query_string) const {
  Query query;
  query.limit = kDefaultLimit;
  while (!query_string.empty()) {
    size_t amp = query_string.find('&');
    std::string_view pair = query_string.substr(0, amp);
    query_string = amp == std::string_view::npos ? "" : query_string.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!value)
      return Error(400, "malformed percent-encoding in query parameter " + std::string(name));
    if (name == "limit") {
      auto limit = ParseLimit("limit", *value);
      if (!limit.ok()) return FromStatus(limit.status());
      query.limit = *limit;
    } else if (name == "skip") {
      auto skip = ParseCount("skip", *value);
      if (!skip.ok()) return FromStatus(skip.status());
      query.skip = *skip;
    } else {
      return Error(400,
                   "unknown query parameter '" + std::string(name) + "' (expected limit, skip)");
    }
  }
  return Rows(e, query);
}

HttpResponse RestApi::Rows(const RestEndpoint& e, const Query& query) const {
  auto view = store_.BeginRead();
  if (!view.ok()) return FromStatus(view.status());
  HttpResponse r;
  r.body.push_back('[');
  bool first = true;
  Status row_status;
  Status s = RunQuery(*view, e.cache_table, e.schema, query, [&](std::string_view row) {
    if (!first) r.body.push_back(',');
    first = false;
    row_status = AppendRow(e, row, &r.body);
    return row_status.ok();
  });
  if (s.ok()) s = row_status;
  if (!s.ok()) return FromStatus(s);
  r.body.push_back(']');
  return r;
}

HttpResponse RestApi::GetById(const RestEndpoint& e, std::string_view id) const {
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
  const Field& key_field = e.schema.fields[e.schema.primary_key[0]];
  auto key = ParseValueText(key_field.type, id);
  if (!key.ok()) {
    return Error(400, "id: " + key.status().message() + " for primary key " + key_field.name);
  }
  auto view = store_.BeginRead();
  if (!view.ok()) return FromStatus(view.status());
  auto row = GetByKey(*view, e.cache_table, e.schema, {*key});
  if (!row.ok()) return FromStatus(row.status());
  if (!*row) {
    return Error(404, "no " + e.name + " record with " + key_field.name + " = " + std::string(id));
  }
  HttpResponse r;
  Status s = AppendRow(e, **row, &r.body);
  if (!s.ok()) return FromStatus(s);
  return r;
}

HttpResponse RestApi::QueryOrCount(const RestEndpoint& e, const std::string& body,
                                   bool count) const {
  auto query = ParseQueryBody(e, body, count);
  if (!query.ok()) return FromStatus(query.status());
  if (!count) return Rows(e, *query);
  auto view = store_.BeginRead();
  if (!view.ok()) return FromStatus(view.status());
  auto n = CountQuery(*view, e.cache_table, e.schema, query->filter);
  if (!n.ok()) return FromStatus(n.status());
  HttpResponse r;
  r.body = "{\"count\":" + std::to_string(*n) + "}";
  return r;
}

}  // namespace sluice
