#include "sql/sql_parser.h"

extern "C" {
#include <pg_query.h>
}

namespace sluice {

std::string SqlSource::Position(int64_t offset) const {
  int line = first_line_, column = 1;
  for (int64_t i = 0; i < offset && i < int64_t(text_.size()); ++i) {
    if (text_[size_t(i)] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column + indent_);
}

std::string SqlSource::TokenAt(int64_t offset) const {
  size_t i = size_t(offset);
  std::string sign;
  if (i < text_.size() && (text_[i] == '-' || text_[i] == '+')) {
    // PostgreSQL folds a minus sign into the constant after it, whitespace between them
    // included ("- 100"), and places the constant at the sign.
    sign = text_.substr(i++, 1);
    while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
  }
  size_t end = i;
  while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) ||
                                text_[end] == '.' || text_[end] == '_')) {
    ++end;
  }
  return sign + text_.substr(i, end - i);
}

Result<ParsedSql> ParseSql(std::shared_ptr<SqlSource> source) {
  PgQueryParseResult result = pg_query_parse(source->text().c_str());
  if (result.error) {
    std::string message = result.error->message;
    // cursorpos is 1-based; 0 means "no position".
    int pos = result.error->cursorpos;
    pg_query_free_parse_result(result);
    if (pos > 0) message += " at " + source->Position(pos - 1);
    return InvalidArgument(message);
  }
  ParsedSql parsed;
  parsed.source = std::move(source);
  parsed.json_parser = std::make_unique<simdjson::dom::parser>();
  auto doc = parsed.json_parser->parse(result.parse_tree, std::strlen(result.parse_tree));
  pg_query_free_parse_result(result);
  if (doc.error()) return Internal("cannot read the parse tree of the SQL");
  simdjson::dom::array stmts;
  if (doc["stmts"].get(stmts)) return parsed;  // empty text: no statements
  for (auto raw : stmts) {
    simdjson::dom::element stmt;
    if (raw["stmt"].get(stmt)) return Internal("parse tree without a statement");
    parsed.statements.push_back(stmt);
  }
  return parsed;
}

}  // namespace sluice
