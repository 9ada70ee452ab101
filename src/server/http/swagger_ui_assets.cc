// The Swagger UI files, assembled into read-only data with `.incbin`: the 1.7 MB bundle costs
// the assembler a copy instead of a C++ initializer the compiler would take minutes to parse.
// SLUICE_SWAGGER_UI_DIR is where the build installed swagger-ui-dist (CMakeLists.txt); the
// object file depends on that install, so a new pinned version rebuilds it. File `name` spans
// the symbols `name` .. `name_end`, declared in swagger_ui.cc.
#ifndef SLUICE_SWAGGER_UI_DIR
#error "SLUICE_SWAGGER_UI_DIR must name the installed swagger-ui-dist directory"
#endif

// clang-format off
#define SLUICE_EMBED(symbol, file)                             \
  __asm__(".section .rodata\n"                                 \
          ".global " #symbol "\n"                              \
          ".hidden " #symbol "\n"                              \
          ".balign 16\n"                                       \
          #symbol ":\n"                                        \
          ".incbin \"" SLUICE_SWAGGER_UI_DIR "/" file "\"\n"   \
          ".global " #symbol "_end\n"                          \
          ".hidden " #symbol "_end\n"                          \
          #symbol "_end:\n"                                    \
          ".byte 0\n"                                          \
          ".previous\n")
// clang-format on

SLUICE_EMBED(sluice_swagger_ui_css, "swagger-ui.css");
SLUICE_EMBED(sluice_swagger_ui_bundle_js, "swagger-ui-bundle.js");
SLUICE_EMBED(sluice_swagger_ui_bundle_license, "swagger-ui-bundle.js.LICENSE.txt");
SLUICE_EMBED(sluice_swagger_ui_favicon_16, "favicon-16x16.png");
SLUICE_EMBED(sluice_swagger_ui_favicon_32, "favicon-32x32.png");
SLUICE_EMBED(sluice_swagger_ui_license, "LICENSE");
SLUICE_EMBED(sluice_swagger_ui_notice, "NOTICE");
