// A small app for the targets that fuzz readers (REST, HTTP, query strings, live filters): an
// LMDB cache in a scratch directory with a keyed, indexed `products` table of every field type
// and a keyless `log` table (a multiset with copies), served by a RestApi without auth and one
// with JWT auth (HS256, kJwtSecret), like `sluice run` builds them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "cache/query_spec.h"
#include "server/auth/authenticator.h"
#include "server/http/rest_api.h"

namespace sluice::fuzz {

// The HS256 secret of the shop's auth API (tests/fuzz/corpus/*/ tokens are signed with it).
inline constexpr char kJwtSecret[] = "sluice-fuzz-secret-0123456789abcdef";

struct Shop {
  std::unique_ptr<CacheStore> store;
  std::vector<RestEndpoint> endpoints;  // products (/products), log (/ops/log),
                                        // featured (/products/featured: the log again)
  std::vector<Record> products;         // the stored rows, as records
  std::vector<Record> log;              // every copy
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<RestApi> open_api;  // no auth
  std::unique_ptr<RestApi> auth_api;  // JWT auth, and POST /auth/token with kJwtSecret
};

// The products table's schema and row i (0 <= i < kShopProducts): every field type, NULLs,
// NaN, -0, infinities, integers beyond 2^53, decimals in two forms (20 and 20.00), the first
// and last representable timestamps, non-ASCII text.
inline constexpr int kShopProducts = 60;
Schema ShopProductSchema();
Record ShopProduct(int i);

// Builds a fresh shop under ScratchDir(name), with its rows or (`fill` false) empty tables.
// Aborts (a broken fuzz setup) on failure.
std::unique_ptr<Shop> MakeShop(const std::string& name, bool fill = true);

// Checks what every response must satisfy: a known status, a JSON body (when JSON) that is
// valid JSON, errors in the contract's shape with the code that matches the status, and
// header names and values without CR/LF (they are written to the socket as they are).
// `where` describes the request in failure messages.
// With `allow_internal`, a 500 is accepted (for stores holding rows that do not decode).
void CheckResponse(const HttpResponse& response, const std::string& where,
                   bool allow_internal = false);

// Answers `request` as HttpServer does (MatchLive first, then Handle) and checks every
// response with CheckResponse. With `follow_cursor`, a page's X-Sluice-Cursor is sent back
// (`after=` / `"$after"`) and must be accepted.
HttpResponse Answer(const RestApi& api, const HttpRequest& request, bool follow_cursor);

// Whether two parsed filters are the same tree (values compared with ==, i.e. numerically).
bool SameFilter(const FilterNode& a, const FilterNode& b);

// The value of a response header, or "".
std::string HeaderValue(const HttpResponse& response, std::string_view name);

// %XX-encodes everything but unreserved characters (RFC 3986).
std::string PercentEncode(std::string_view text);

}  // namespace sluice::fuzz
