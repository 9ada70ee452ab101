// ${NAME} and ${NAME:-default} substitution over the raw config text, before YAML parsing, so
// a variable may stand anywhere (keys, values, inside strings). "$${" writes a literal "${".
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace sluice {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Errors name file:line of an unset variable without default or an unclosed "${".
Result<std::string> SubstituteEnv(const std::string& text, const std::string& file,
                                  const EnvLookup& lookup);
EnvLookup ProcessEnvLookup();

}  // namespace sluice
