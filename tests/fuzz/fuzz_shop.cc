#include "fuzz_shop.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "fuzz_support.h"
#include "server/auth/jwt.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/value_text.h"

namespace sluice::fuzz {

Schema ShopProductSchema() {
  using T = FieldType;
  return Schema{{{"id", T::kInt, false},
                 {"title", T::kString, true},
                 {"body", T::kText, true},
                 {"price", T::kDecimal, true},
                 {"big", T::kInt, true},
                 {"score", T::kFloat, true},
                 {"active", T::kBoolean, true},
                 {"created", T::kTimestamp, true},
                 {"day", T::kDate, true},
                 {"wait", T::kDuration, true},
                 {"blob", T::kBinary, true},
                 {"meta", T::kJson, true},
                 {"count", T::kUInt, true},
                 {"place", T::kPoint, true}},
                {0}};
}

Record ShopProduct(int i) {
  static const char* kTitles[] = {"item", "",        "Ünïcödé 𝄞", "a,b\"c\\d", "Blue Shoes",
                                  "blue", "red hat", "zz",        "\x7f",      "item 10"};
  static const char* kBodies[] = {"blue shoes for running", "Red hat, BLUE scarf!",
                                  "shoes shoes shoes",      "naïve café",
                                  "the quick brown fox",    ""};
  static const char* kMeta[] = {"{\"a\":1}", "[1,2,3]", "\"text\"", "12.50", "{}", "null"};
  const int64_t id = i - 10;
  Record r(14);
  r[0] = Value(id);
  r[1] = i % 9 == 4 ? Value()
                    : Value(std::string(kTitles[i % 10]) + (i % 3 ? "" : " " + std::to_string(i)));
  r[2] = i % 6 == 5 ? Value() : Value(kBodies[i % 6]);
  if (i % 7 != 3) {
    std::string price = std::to_string(i * 3 - 40) + (i % 4 == 0 ? "" : i % 4 == 1 ? ".5" : ".50");
    r[3] = Value(*Decimal::Parse(i == 20 ? "20.00" : i == 21 ? "20" : price));
  }
  if (i % 5 != 0) {
    r[4] = Value(i == 7   ? int64_t{9007199254740993}
                 : i == 8 ? std::numeric_limits<int64_t>::min()
                 : i == 9 ? std::numeric_limits<int64_t>::max()
                          : int64_t(i) * 1000 - 30000);
  }
  if (i % 11 != 10) {
    const double d = i == 3   ? std::nan("")
                     : i == 4 ? -0.0
                     : i == 5 ? std::numeric_limits<double>::infinity()
                     : i == 6 ? -std::numeric_limits<double>::infinity()
                              : i / 3.0 - 5;
    r[5] = Value(d);
  }
  if (i % 13 != 0) r[6] = Value(i % 2 == 0);
  if (i % 6 != 0) {
    r[7] = Value(i == 1   ? int64_t{-62135596800000000}  // 0001-01-01T00:00:00Z
                 : i == 2 ? int64_t{253402300799999999}  // 9999-12-31T23:59:59.999999Z
                          : int64_t{1700000000000000} + int64_t(i) * 3600000000 + i % 3);
  }
  if (i % 8 != 0) r[8] = Value(int64_t(i) * 100 - 3000);
  r[9] = Value(int64_t(i) * 1500000 * (i % 2 ? -1 : 1));
  if (i % 4 != 2) r[10] = Value(std::string("\x00\xff\x10", 3) + std::string(size_t(i % 5), 'b'));
  if (i % 6 != 1) r[11] = Value(kMeta[i % 6]);
  if (i % 3 != 1) r[12] = Value(i == 12 ? std::numeric_limits<uint64_t>::max() : uint64_t(i));
  if (i % 10 != 9) r[13] = Value(Point{double(i), -double(i) / 2});
  return r;
}

namespace {

[[noreturn]] void SetupFailed(const std::string& what, const Status& s) {
  Fail(__FILE__, __LINE__, "fuzz shop setup: " + what + ": " + s.ToString());
}

std::string_view ErrorCode(int status) {
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

}  // namespace

std::unique_ptr<Shop> MakeShop(const std::string& name, bool fill) {
  InitOnce();
  auto shop = std::make_unique<Shop>();
  auto store = CacheStore::Open(ScratchDir(name));
  if (!store.ok()) SetupFailed("open", store.status());
  shop->store = std::move(*store);

  const Schema products = ShopProductSchema();
  Schema log = products;
  log.primary_key.clear();
  using K = IndexDefinition::Kind;
  std::vector<IndexDefinition> product_indexes{
      {K::kSorted, {3}}, {K::kSorted, {6, 7}}, {K::kSorted, {1}},  {K::kFullText, {2}},
      {K::kSorted, {5}}, {K::kSorted, {4}},    {K::kFullText, {1}}};
  std::vector<IndexDefinition> log_indexes{{K::kSorted, {0}}, {K::kFullText, {2}}};
  auto declared = shop->store->DeclareTables(
      {{"products", products, "fuzz", product_indexes}, {"log", log, "fuzz", log_indexes}});
  if (!declared.ok()) SetupFailed("declare", declared.status());

  CommitBatch batch;
  TableChanges product_changes(0), log_changes(1);
  for (int i = 0; fill && i < kShopProducts; ++i) {
    Record r = ShopProduct(i);
    std::string key, row;
    EncodeKey(products, r, products.primary_key, &key);
    EncodeRow(products, r, &row);
    product_changes.Upsert(key, row);
    shop->products.push_back(r);
    if (i < 24) {
      const int copies = i % 3 == 0 ? 2 : 1;
      for (int c = 0; c < copies; ++c) {
        log_changes.AddCopy(row);
        shop->log.push_back(r);
      }
    }
  }
  batch.tables.push_back(std::move(product_changes));
  batch.tables.push_back(std::move(log_changes));
  batch.epoch = 1;
  if (Status s = shop->store->Commit(batch); !s.ok()) SetupFailed("commit", s);

  shop->endpoints = {{"products", "/products", "products", products, 0},
                     {"log", "/ops/log", "log", log, 1},
                     {"featured", "/products/featured", "log", log, 1}};
  shop->open_api = std::make_unique<RestApi>("shop", *shop->store, shop->endpoints);
  JwtOptions options;
  options.secret = kJwtSecret;
  auto verifier = JwtVerifier::Create(options);
  if (!verifier.ok()) SetupFailed("jwt", verifier.status());
  shop->authenticator = std::make_unique<Authenticator>(std::move(*verifier), shop->endpoints);
  RestAuth auth;
  auth.authenticator = shop->authenticator.get();
  auth.secret = kJwtSecret;
  shop->auth_api = std::make_unique<RestApi>("shop", *shop->store, shop->endpoints, auth);
  return shop;
}

std::string HeaderValue(const HttpResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return "";
}

void CheckResponse(const HttpResponse& r, const std::string& where, bool allow_internal) {
  const std::string context = where + " -> " + std::to_string(r.status) + " " + Printable(r.body);
  static const int kStatuses[] = {200, 400, 401, 403, 404, 405, 413, 503};
  FUZZ_CHECK(
      std::find(std::begin(kStatuses), std::end(kStatuses), r.status) != std::end(kStatuses) ||
          (allow_internal && r.status == 500),
      "unexpected status (500 is an internal error): " + context);
  for (const auto& [name, value] : r.headers) {
    FUZZ_CHECK(!name.empty() && name.find_first_of("\r\n:") == std::string::npos,
               "header name " + Printable(name) + ": " + context);
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
               "header " + name + " value " + Printable(value) + ": " + context);
  }
  FUZZ_CHECK(r.content_type.find_first_of("\r\n") == std::string::npos, context);
  if (r.content_type == "application/json") {
    FUZZ_CHECK(IsValidJson(r.body), "body is not valid JSON: " + context);
  }
  if (r.status == 405)
    FUZZ_CHECK(!HeaderValue(r, "Allow").empty(), "405 without Allow: " + context);
  if (r.status == 401) {
    FUZZ_CHECK(!HeaderValue(r, "WWW-Authenticate").empty(), "401 without challenge: " + context);
  }
  if (r.status >= 400) {
    FUZZ_CHECK(r.content_type == "application/json", context);
    simdjson::dom::parser parser;
    simdjson::padded_string padded(r.body);
    simdjson::dom::object root, error;
    std::string_view code, message;
    const bool shaped = parser.parse(padded).get(root) == simdjson::SUCCESS && root.size() == 1 &&
                        root["error"].get(error) == simdjson::SUCCESS && error.size() == 2 &&
                        error["code"].get(code) == simdjson::SUCCESS &&
                        error["message"].get(message) == simdjson::SUCCESS;
    FUZZ_CHECK(shaped, "error body not {\"error\":{\"code\",\"message\"}}: " + context);
    FUZZ_CHECK(code == ErrorCode(r.status), "error code " + std::string(code) + ": " + context);
    FUZZ_CHECK(!message.empty(), "empty error message: " + context);
  }
}

bool SameFilter(const FilterNode& a, const FilterNode& b) {
  if (a.op != b.op || a.column != b.column || a.values.size() != b.values.size() ||
      a.words != b.words || a.children.size() != b.children.size()) {
    return false;
  }
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (!(a.values[i] == b.values[i])) return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameFilter(a.children[i], b.children[i])) return false;
  }
  return true;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

// The body with "$after": cursor set (other keys kept); nullopt when it is not an object.
std::optional<std::string> WithAfter(const std::string& body, const std::string& cursor) {
  std::string out = "{";
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(body);
    simdjson::dom::object object;
    if (parser.parse(padded).get(object) != simdjson::SUCCESS) return std::nullopt;
    for (auto [key, value] : object) {
      if (key == "$after") continue;
      AppendJsonString(key, &out);
      out += ":" + simdjson::minify(value) + ",";
    }
  }
  out += "\"$after\":";
  AppendJsonString(cursor, &out);
  return out + "}";
}

}  // namespace

HttpResponse Answer(const RestApi& api, const HttpRequest& request, bool follow_cursor) {
  const std::string where = Printable(request.method) + " " + Printable(request.target) +
                            " auth=" + Printable(request.authorization) +
                            " body=" + Printable(request.body);
  if (auto live = api.MatchLive(request)) {
    if (auto* error = std::get_if<HttpResponse>(&*live)) {
      CheckResponse(*error, "live " + where);
      FUZZ_CHECK(error->status != 200, "live refusal with 200: " + where);
      return *error;
    }
    const LiveRoute& route = std::get<LiveRoute>(*live);
    FUZZ_CHECK(route.endpoint != nullptr, where);
    FUZZ_CHECK(route.json_prefixes.size() == route.endpoint->schema.fields.size(), where);
    HttpResponse ok;  // the server would start streaming
    return ok;
  }
  HttpResponse response = api.Handle(request);
  CheckResponse(response, where);
  const std::string cursor = HeaderValue(response, "X-Sluice-Cursor");
  if (follow_cursor && response.status == 200 && !cursor.empty()) {
    HttpRequest next = request;
    bool rewritten = true;
    if (request.method == "POST") {
      auto body = WithAfter(request.body, cursor);
      rewritten = body.has_value();
      if (body) next.body = *body;
    } else {
      next.target += (next.target.find('?') == std::string::npos ? "?" : "&");
      next.target += "after=" + PercentEncode(cursor);
    }
    if (rewritten) {
      HttpResponse more = Answer(api, next, false);
      FUZZ_CHECK(more.status == 200,
                 "the cursor this page gave is refused: " + where + " -> " + Printable(more.body));
    }
  }
  return response;
}

}  // namespace sluice::fuzz
