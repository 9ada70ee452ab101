// JSON values in PostgreSQL's jsonb text form: object keys sorted by length then bytes (the
// last of duplicate keys wins), ", " and ": " separators. SQL results of json operators use
// it, so they read the same as PostgreSQL's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace simdjson::dom {
class element;
}

namespace sluice {

Result<std::string> NormalizeJson(std::string_view json);
void AppendJsonb(const simdjson::dom::element& element, std::string* out);

// `json -> key` / `json -> index`: the member or element as jsonb text, nullopt when absent.
// `as_text` (->>): strings unquoted, JSON null as nullopt, others as jsonb text.
Result<std::optional<std::string>> JsonGet(std::string_view json, std::string_view key,
                                           bool as_text);
Result<std::optional<std::string>> JsonGetIndex(std::string_view json, int64_t index, bool as_text);

}  // namespace sluice
