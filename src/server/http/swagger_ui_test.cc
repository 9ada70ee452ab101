#include "server/http/swagger_ui.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "<missing>";
}

TEST(SwaggerUiTest, PageLoadsTheEmbeddedAssetsAndThisApisDocument) {
  for (std::string_view path : {"/docs", "/docs/", "/docs?x=1"}) {
    std::optional<HttpResponse> page = ServeSwaggerUi(path);
    ASSERT_TRUE(page) << path;
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(Header(*page, "Cache-Control"), "no-cache");
    EXPECT_NE(page->body.find(R"(src="/docs/swagger-ui-bundle.js")"), std::string::npos);
    EXPECT_NE(page->body.find(R"(href="/docs/swagger-ui.css")"), std::string::npos);
    EXPECT_NE(page->body.find(R"(url: "/openapi.json")"), std::string::npos);
    // Nothing from elsewhere: no absolute URLs (validator.swagger.io is switched off).
    EXPECT_EQ(page->body.find("http"), std::string::npos);
  }
}

TEST(SwaggerUiTest, ServesTheEmbeddedFilesWhole) {
  std::optional<HttpResponse> js = ServeSwaggerUi("/docs/swagger-ui-bundle.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(*js, "Cache-Control"), "public, max-age=86400");
  EXPECT_GT(js->body.size(), 500'000u);
  EXPECT_NE(js->body.find("SwaggerUIBundle"), std::string::npos);
  EXPECT_NE(js->body.back(), '\0');  // the terminator after each file is not part of it

  std::optional<HttpResponse> css = ServeSwaggerUi("/docs/swagger-ui.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_NE(css->body.find(".swagger-ui"), std::string::npos);

  std::optional<HttpResponse> icon = ServeSwaggerUi("/docs/favicon-32x32.png");
  ASSERT_TRUE(icon);
  EXPECT_EQ(icon->content_type, "image/png");
  EXPECT_EQ(icon->body.substr(1, 3), "PNG");

  std::optional<HttpResponse> license = ServeSwaggerUi("/docs/LICENSE");
  ASSERT_TRUE(license);
  EXPECT_NE(license->body.find("Apache License"), std::string::npos);
}

TEST(SwaggerUiTest, AnswersNothingElse) {
  for (std::string_view path : {"/", "/doc", "/docsx", "/docs/missing.js", "/docs/../etc/passwd",
                                "/docs/swagger-ui.css/", "/openapi.json"}) {
    EXPECT_FALSE(ServeSwaggerUi(path)) << path;
  }
}

}  // namespace
}  // namespace sluice
