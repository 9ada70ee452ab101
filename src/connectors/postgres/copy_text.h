// One row of COPY ... TO STDOUT in text format: fields split on tabs, \N for NULL, backslash
// escapes (\t, \n, \\, octal \123, hex \x41 ...) decoded. Used by the initial snapshot.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

// `line` without or with its trailing newline. Fields are appended to `fields` (cleared first).
Status ParseCopyTextRow(std::string_view line, std::vector<std::optional<std::string>>& fields);

}  // namespace sluice
