#include "config/env_substitution.h"

#include <cstdlib>

namespace sluice {

Result<std::string> SubstituteEnv(const std::string& text, const std::string& file,
                                  const EnvLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c == '$' && text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 2;
      continue;
    }
    if (c != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out.push_back(c);
      continue;
    }
    size_t close = text.find('}', i + 2);
    size_t newline = text.find('\n', i + 2);
    if (close == std::string::npos || (newline != std::string::npos && newline < close)) {
      return InvalidArgument(file + ":" + std::to_string(line) + ": unclosed '${' in config");
    }
    std::string inner = text.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (size_t sep = inner.find(":-"); sep != std::string::npos) {
      fallback = inner.substr(sep + 2);
      inner.resize(sep);
    }
    if (inner.empty()) {
      return InvalidArgument(file + ":" + std::to_string(line) + ": empty variable name in '${}'");
    }
    std::optional<std::string> value = lookup(inner);
    if (!value || (value->empty() && fallback)) value = fallback;
    if (!value) {
      return InvalidArgument(file + ":" + std::to_string(line) + ": environment variable " + inner +
                             " is not set (give a default with ${" + inner + ":-value})");
    }
    out += *value;
    i = close;
  }
  return out;
}

EnvLookup ProcessEnvLookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace sluice
