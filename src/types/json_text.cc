#include "types/json_text.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "types/value_text.h"

namespace sluice {
namespace {

thread_local simdjson::dom::parser tls_parser;

Result<simdjson::dom::element> Parse(std::string_view json) {
  auto doc = tls_parser.parse(json.data(), json.size());
  if (doc.error()) {
    return InvalidArgument("invalid json: " + std::string(simdjson::error_message(doc.error())));
  }
  return doc.value_unsafe();
}

std::optional<std::string> Render(const simdjson::dom::element& e, bool as_text) {
  if (as_text) {
    if (e.is_null()) return std::nullopt;
    if (e.is_string()) return std::string(e.get_string().value_unsafe());
  }
  std::string out;
  AppendJsonb(e, &out);
  return out;
}

}  // namespace

void AppendJsonb(const simdjson::dom::element& e, std::string* out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
      simdjson::dom::object obj = e.get_object().value_unsafe();  // a copy: see below
      for (auto f : obj) {
        auto same =
            std::find_if(fields.begin(), fields.end(), [&](auto& p) { return p.first == f.key; });
        if (same != fields.end()) {
          same->second = f.value;  // the last duplicate wins
        } else {
          fields.emplace_back(f.key, f.value);
        }
      }
      std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) {
        return a.first.size() != b.first.size() ? a.first.size() < b.first.size()
                                                : a.first < b.first;
      });
      out->push_back('{');
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out->append(", ");
        AppendJsonString(fields[i].first, out);
        out->append(": ");
        AppendJsonb(fields[i].second, out);
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      // Iterate a copy: value_unsafe() of a temporary result would dangle in a range-for.
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (auto item : arr) {
        if (!first) out->append(", ");
        first = false;
        AppendJsonb(item, out);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING:
      AppendJsonString(e.get_string().value_unsafe(), out);
      return;
    default:
      out->append(simdjson::minify(e));
  }
}

Result<std::string> NormalizeJson(std::string_view json) {
  ASSIGN_OR_RETURN(auto e, Parse(json));
  std::string out;
  AppendJsonb(e, &out);
  return out;
}

Result<std::optional<std::string>> JsonGet(std::string_view json, std::string_view key,
                                           bool as_text) {
  ASSIGN_OR_RETURN(auto e, Parse(json));
  simdjson::dom::object obj;
  if (e.get(obj)) return std::optional<std::string>();
  std::optional<simdjson::dom::element> found;
  for (auto f : obj) {
    if (f.key == key) found = f.value;  // the last duplicate wins, as in jsonb
  }
  if (!found) return std::optional<std::string>();
  return Render(*found, as_text);
}

Result<std::optional<std::string>> JsonGetIndex(std::string_view json, int64_t index,
                                                bool as_text) {
  ASSIGN_OR_RETURN(auto e, Parse(json));
  simdjson::dom::array arr;
  if (e.get(arr)) {
    // jsonb keeps a bare scalar as a one-element array, so index 0 (or -1) is the scalar.
    if (e.is_object() || (index != 0 && index != -1)) return std::optional<std::string>();
    return Render(e, as_text);
  }
  int64_t size = int64_t(arr.size());
  if (index < 0) index += size;
  if (index < 0 || index >= size) return std::optional<std::string>();
  return Render(arr.at(size_t(index)).value_unsafe(), as_text);
}

}  // namespace sluice
