// The query-string form of the query language (docs/rest.md): GET {path}?filter=<json>&
// order_by=<json or col:desc,..>&limit=&skip=&after= and GET {path}/live?filter=&snapshot=,
// percent-decoding included (RestApi's ParseQueryString and MatchLive).
//
// Input: the query string (what follows '?'), sent to a keyed endpoint, a keyless one, one
// whose path is nested under another's, and to the keyed endpoint's live route.
// Contracts: as rest_api_fuzz (CheckResponse, cursors accepted); a refused parameter is a 400
// naming it, never a 500; the same query string gives the same answer twice.
#include "fuzz_shop.h"
#include "fuzz_support.h"

namespace sluice::fuzz::query_string {

int FuzzOne(const uint8_t* data, size_t size) {
  static Shop* shop = MakeShop("query_string").release();
  const std::string query(reinterpret_cast<const char*>(data), size);
  for (const char* path : {"/products", "/ops/log", "/products/featured", "/products/live"}) {
    HttpRequest request{"GET", std::string(path) + "?" + query, ""};
    HttpResponse first = Answer(*shop->open_api, request, true);
    if (first.status == 400) {
      FUZZ_CHECK(first.body.find("\"message\":\"") != std::string::npos, first.body);
    }
    if (std::string_view(path).ends_with("/live")) continue;
    HttpResponse again = shop->open_api->Handle(request);
    FUZZ_CHECK(again.status == first.status && again.body == first.body,
               "two answers to " + Printable(request.target));
  }
  return 0;
}

}  // namespace sluice::fuzz::query_string
