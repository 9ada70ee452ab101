#include "server/http/swagger_ui.h"

#include <string>

// Defined by swagger_ui_assets.cc: each file's bytes lie between `name` and `name_end`.
#define SLUICE_EMBEDDED(symbol) extern const char symbol[], symbol##_end[];
extern "C" {
SLUICE_EMBEDDED(sluice_swagger_ui_css)
SLUICE_EMBEDDED(sluice_swagger_ui_bundle_js)
SLUICE_EMBEDDED(sluice_swagger_ui_bundle_license)
SLUICE_EMBEDDED(sluice_swagger_ui_favicon_16)
SLUICE_EMBEDDED(sluice_swagger_ui_favicon_32)
SLUICE_EMBEDDED(sluice_swagger_ui_license)
SLUICE_EMBEDDED(sluice_swagger_ui_notice)
}
#undef SLUICE_EMBEDDED

namespace sluice {
namespace {

// validatorUrl: null keeps Swagger UI from asking validator.swagger.io for a badge.
constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API docs</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
  <style>body { margin: 0; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null,
    });
  </script>
</body>
</html>
)html";

struct Asset {
  std::string_view name;  // under /docs/
  std::string_view content_type;
  const char* begin;
  const char* end;
};

constexpr std::string_view kText = "text/plain; charset=utf-8";
const Asset kAssets[] = {
    {"swagger-ui.css", "text/css; charset=utf-8", sluice_swagger_ui_css, sluice_swagger_ui_css_end},
    {"swagger-ui-bundle.js", "text/javascript; charset=utf-8", sluice_swagger_ui_bundle_js,
     sluice_swagger_ui_bundle_js_end},
    {"swagger-ui-bundle.js.LICENSE.txt", kText, sluice_swagger_ui_bundle_license,
     sluice_swagger_ui_bundle_license_end},
    {"favicon-16x16.png", "image/png", sluice_swagger_ui_favicon_16,
     sluice_swagger_ui_favicon_16_end},
    {"favicon-32x32.png", "image/png", sluice_swagger_ui_favicon_32,
     sluice_swagger_ui_favicon_32_end},
    {"LICENSE", kText, sluice_swagger_ui_license, sluice_swagger_ui_license_end},
    {"NOTICE", kText, sluice_swagger_ui_notice, sluice_swagger_ui_notice_end},
};

HttpResponse Response(std::string body, std::string_view content_type,
                      std::string_view cache_control) {
  HttpResponse r;
  r.body = std::move(body);
  r.content_type = content_type;
  r.headers.emplace_back("Cache-Control", cache_control);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

std::optional<HttpResponse> ServeSwaggerUi(std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (path == "/docs" || path == "/docs/") {
    // Revalidated on every visit, so a new binary's page (and asset list) shows at once.
    return Response(std::string(kPage), "text/html; charset=utf-8", "no-cache");
  }
  constexpr std::string_view kPrefix = "/docs/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  for (const Asset& asset : kAssets) {
    if (asset.name == path) {
      return Response(std::string(asset.begin, asset.end), asset.content_type,
                      "public, max-age=86400");
    }
  }
  return std::nullopt;
}

}  // namespace sluice
