// The `access` claim of a token (docs/auth.md): "all", or {"endpoints": {"<name>": {"filter":
// <filter>, "fields": [..]}}} — row filters and visible fields, enforced on every read.
//
// Input: the claim's JSON text.
// Contracts: AccessPolicy::Parse accepts it or refuses it with InvalidArgument; a listed
// endpoint is either allowed (its field mask and JSON prefixes sized to its schema) or
// forbidden. With a token carrying the claim (issued with kJwtSecret), reads
// through the REST API pass CheckResponse, and every row a list returns matches the claim's
// row filter and shows no field the claim hides (row- and field-level security).
#include <simdjson.h>

#include "cache/query.h"
#include "fuzz_shop.h"
#include "fuzz_support.h"
#include "server/auth/access_policy.h"
#include "server/auth/jwt.h"

namespace sluice::fuzz::access_claim {
namespace {

constexpr int64_t kFarFuture = 4'102'444'800;  // 2100-01-01

// Checks the rows of a 200 list response against the caller's access to `e`.
void CheckRows(const Shop& shop, const RestEndpoint& e, const EndpointAccess& access,
               const std::string& body, const std::string& ctx) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::array rows;
  FUZZ_CHECK(parser.parse(padded).get(rows) == simdjson::SUCCESS, "not an array: " + ctx);
  const auto id_column = e.schema.FindField("id");
  for (simdjson::dom::element row : rows) {
    simdjson::dom::object object;
    FUZZ_CHECK(row.get(object) == simdjson::SUCCESS, ctx);
    for (auto [key, value] : object) {
      auto column = e.schema.FindField(key);
      FUZZ_CHECK(column && access.Allows(*column),
                 "hidden field " + std::string(key) + " returned: " + ctx);
    }
    int64_t id;
    if (!id_column || !access.Allows(*id_column) || object["id"].get(id) != simdjson::SUCCESS) {
      continue;
    }
    const std::vector<Record>& stored = e.cache_table == 0 ? shop.products : shop.log;
    for (const Record& r : stored) {
      if (r[0].as_int() != id) continue;
      FUZZ_CHECK(FilterMatches(access.filter, e.schema, r),
                 "row id " + std::to_string(id) + " of " + e.name +
                     " is outside the token's row filter: " + ctx);
      break;
    }
  }
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  static Shop* shop = MakeShop("access_claim").release();
  const std::string claim(reinterpret_cast<const char*>(data), size);
  const std::string ctx = Printable(claim);
  auto policy = AccessPolicy::Parse(claim, shop->endpoints);
  if (!policy.ok()) {
    FUZZ_CHECK(policy.status().code() == StatusCode::kInvalidArgument, Describe(policy.status()));
    return 0;
  }
  for (const RestEndpoint& e : shop->endpoints) {
    const EndpointAccess* access = policy->For(e.name);
    if (!access) continue;
    if (access->fields) {
      FUZZ_CHECK(access->fields->size() == e.schema.fields.size(), ctx);
      FUZZ_CHECK(access->json_prefixes.size() == e.schema.fields.size(), ctx);
    }
  }

  auto token = IssueToken(kJwtSecret, claim, kFarFuture - 1'700'000'000, 1'700'000'000, "fuzz");
  if (!token.ok()) return 0;  // e.g. a claim jansson cannot re-encode
  const std::string authorization = "Bearer " + *token;
  // What the server enforces: the policy of the verified token (jwt_fuzz checks it means what
  // the claim meant).
  auto caller = shop->authenticator->Authenticate(authorization);
  FUZZ_CHECK(caller.ok(), "an issued token is refused: " + Describe(caller.status()) + " " + ctx);
  const AccessPolicy& enforced = (*caller)->policy;
  for (const RestEndpoint& e : shop->endpoints) {
    for (const char* suffix : {"?limit=10000", "/1", "/count"}) {
      HttpRequest request{std::string(suffix) == "/count" ? "POST" : "GET", e.path + suffix, "",
                          authorization};
      HttpResponse r = Answer(*shop->auth_api, request, false);
      const EndpointAccess* access = enforced.For(e.name);
      if (!access) {
        FUZZ_CHECK(r.status == 403, "a forbidden endpoint answered " + std::to_string(r.status) +
                                        ": " + e.name + " " + ctx);
        continue;
      }
      if (r.status == 200 && std::string_view(suffix) == "?limit=10000") {
        CheckRows(*shop, e, *access, r.body, e.path + " " + ctx);
      }
    }
  }
  Answer(*shop->auth_api, {"GET", "/", "", authorization}, false);
  Answer(*shop->auth_api, {"GET", "/products/live?snapshot=false", "", authorization}, false);
  return 0;
}

}  // namespace sluice::fuzz::access_claim
