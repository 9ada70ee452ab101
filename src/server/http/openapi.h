// The OpenAPI 3.0.3 description of one app's REST API (docs/rest.md), served at
// GET /openapi.json and rendered by Swagger UI at /docs (swagger_ui.h). It lists every route of
// every endpoint with its parameters, bodies and responses, and per endpoint the schemas of its
// records, filters and query bodies, so clients can be generated from it.
// Thread-safety: a pure function of its arguments; callers that serve it build it once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/endpoint.h"

namespace sluice {

// Component names per endpoint: `<Base>Record`, `<Base>Filter`, `<Base>OrderBy`,
// `<Base>QueryBody`, `<Base>CountBody`, where <Base> is the endpoint name in PascalCase
// ("order_items" -> "OrderItems"). Operation ids are `<name>_<action>` with the name in
// snake_case (list, get, query, count, explain, live). Both get a numeric suffix when two
// endpoint names would otherwise collide, so every name in the document is unique and stable
// for a given config.
// With `bearer_auth` (api.auth configured, docs/auth.md) the document declares the JWT bearer
// scheme for every route but /health, and the POST /auth/token route.
std::string BuildOpenApiDocument(std::string_view app_name,
                                 const std::vector<RestEndpoint>& endpoints,
                                 bool bearer_auth = false);

}  // namespace sluice
