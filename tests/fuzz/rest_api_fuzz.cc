// RestApi (the REST contract as a function, docs/rest.md) with arbitrary requests: what
// HttpServer hands it after Boost.Beast parsed a request, i.e. any method, target and body.
//
// Input: "METHOD\nTARGET\nAUTHORIZATION\nBODY" (the body is the rest, newlines included). An
// empty AUTHORIZATION line asks the API without auth; anything else goes to the API with JWT
// auth as the Authorization header ("-" means no header at all). Tokens in the seed corpus are
// signed with kJwtSecret and expire in 2100.
// Contracts (CheckResponse): a known status and never 500 (the data is valid), valid JSON
// bodies, errors as {"error":{"code","message"}}, no CR/LF in headers. GET /live is answered by
// MatchLive like the server does. A page's X-Sluice-Cursor, sent back as `after` / `$after`,
// is accepted.
#include "fuzz_shop.h"
#include "fuzz_support.h"

namespace sluice::fuzz::rest_api {
int FuzzOne(const uint8_t* data, size_t size) {
  static Shop* shop = MakeShop("rest_api").release();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  HttpRequest request;
  request.method = std::string(TakeLine(&in));
  request.target = std::string(TakeLine(&in));
  const std::string auth(TakeLine(&in));
  request.body = std::string(in);
  const RestApi* api = shop->open_api.get();
  if (!auth.empty()) {
    api = shop->auth_api.get();
    request.authorization = auth == "-" ? "" : auth;
  }
  Answer(*api, request, true);
  return 0;
}

}  // namespace sluice::fuzz::rest_api
