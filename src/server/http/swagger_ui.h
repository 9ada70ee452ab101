// Swagger UI at /docs: a small page of ours that loads Swagger UI and points it at
// /openapi.json (openapi.h). The Swagger UI files come from the npm package swagger-ui-dist,
// pinned in web/swagger/ and embedded into the binary at build time (swagger_ui_assets.cc), so
// nothing is fetched from anywhere else at run time.
// Thread-safety: serves immutable data; callable from any thread.
#pragma once

#include <optional>
#include <string_view>

#include "server/http/rest_api.h"

namespace sluice {

// The page for "/docs" (and "/docs/"), an embedded file for "/docs/<file>"; nullopt for any
// other path, which the caller answers with a 404. A query string is ignored.
std::optional<HttpResponse> ServeSwaggerUi(std::string_view path);

}  // namespace sluice
