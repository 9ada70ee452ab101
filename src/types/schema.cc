#include "types/schema.h"

namespace sluice {

std::optional<size_t> Schema::FindField(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  return std::nullopt;
}

Result<std::vector<size_t>> Schema::ResolveColumns(const std::vector<std::string>& names) const {
  std::vector<size_t> out;
  for (const auto& name : names) {
    auto idx = FindField(name);
    if (!idx) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f.name;
      return InvalidArgument("unknown column '" + name + "' (columns: " + known + ")");
    }
    out.push_back(*idx);
  }
  return out;
}

std::string Schema::Fingerprint() const {
  std::string out;
  for (const auto& f : fields) {
    out += f.name;
    out += ':';
    out += FieldTypeName(f.type);
    out += f.nullable ? "?" : "!";
    out += ';';
  }
  out += "pk=";
  for (size_t k : primary_key) out += std::to_string(k) + ",";
  return out;
}

}  // namespace sluice
