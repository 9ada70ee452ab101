// Parses the `sql:` text of a config with PostgreSQL's own parser (libpg_query) and hands back
// each statement's parse tree as a simdjson DOM, plus what is needed to report errors at the
// user's line:column. No SQL grammar is written here.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

// Maps byte offsets of the SQL text to "line:column" (1-based), counting from the line the
// SQL starts on in the config file, so messages point into the config.
class SqlSource {
 public:
  SqlSource(std::string text, int first_line = 1, int indent = 0)
      : text_(std::move(text)), first_line_(first_line), indent_(indent) {}
  const std::string& text() const { return text_; }
  std::string Position(int64_t offset) const;
  // The text of the literal token starting at `offset` (numbers, used to work around the
  // JSON output dropping negative integer constants).
  std::string TokenAt(int64_t offset) const;

 private:
  std::string text_;
  int first_line_;
  int indent_;  // columns the text is indented by in the file (a YAML block scalar)
};

struct ParsedSql {
  std::shared_ptr<SqlSource> source;
  std::unique_ptr<simdjson::dom::parser> json_parser;  // owns the DOM below
  std::vector<simdjson::dom::element> statements;      // each {"SelectStmt": {...}} etc.
};

// Syntax errors come back as InvalidArgument "syntax error at or near \"x\" at 3:12".
Result<ParsedSql> ParseSql(std::shared_ptr<SqlSource> source);

}  // namespace sluice
