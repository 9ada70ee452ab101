#include "connectors/files/jsonl_parser.h"

#include <fmt/format.h>

#include <cstring>

#include "types/value_text.h"

namespace sluice {
namespace {

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::string_view JsonKind(const simdjson::dom::element& element) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a JSON value";
}

}  // namespace

JsonlParser::JsonlParser(Schema schema) : schema_(std::move(schema)) {}

Status JsonlParser::BuildRecord(std::string_view line, size_t readable_after, Record* record) {
  // Parse in place when the input itself provides the padding simdjson reads past the end of
  // the document (its content does not matter); otherwise copy the line into a padded buffer.
  const char* json = line.data();
  if (readable_after < simdjson::SIMDJSON_PADDING) {
    padded_line_.assign(line);
    padded_line_.append(simdjson::SIMDJSON_PADDING, ' ');
    json = padded_line_.data();
  }
  simdjson::dom::element document;
  if (auto error =
          json_parser_.parse(json, line.size(), /*realloc_if_needed=*/false).get(document)) {
    return InvalidArgument(fmt::format("invalid JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object object;
  if (document.get(object) != simdjson::SUCCESS) {
    return InvalidArgument(fmt::format("expected a JSON object, got {}", JsonKind(document)));
  }
  record->assign(schema_.fields.size(), Value::Null());
  for (simdjson::dom::key_value_pair member : object) {
    std::optional<size_t> column = schema_.FindField(member.key);
    if (!column) continue;
    const Field& field = schema_.fields[*column];
    Result<Value> value = ValueFromJson(field.type, member.value);
    if (!value.ok()) {
      return InvalidArgument(fmt::format("column '{}': {}", field.name, value.status().message()));
    }
    (*record)[*column] = std::move(value).value();
  }
  for (size_t c = 0; c < schema_.fields.size(); ++c) {
    if ((*record)[c].is_null() && !schema_.fields[c].nullable) {
      return InvalidArgument(
          fmt::format("column '{}': NULL in a non-nullable column", schema_.fields[c].name));
    }
  }
  return Status::OK();
}

Result<ParseProgress> JsonlParser::Parse(std::string_view data, int64_t first_line,
                                         size_t max_records, std::vector<Record>* out) {
  ParseProgress progress;
  size_t pos = 0;
  if (first_line == 1 && data.substr(0, kUtf8ByteOrderMark.size()) == kUtf8ByteOrderMark) {
    pos = kUtf8ByteOrderMark.size();
  }
  int64_t line_number = first_line;
  size_t produced = 0;
  while (produced < max_records && pos < data.size()) {
    const void* newline = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (newline == nullptr) break;
    const size_t line_end = static_cast<const char*>(newline) - data.data();
    std::string_view line = data.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const int64_t record_line = line_number;
    pos = line_end + 1;
    ++line_number;
    progress.bytes_consumed = pos;
    progress.lines_consumed = line_number - first_line;
    if (IsBlank(line)) continue;
    Record record;
    Status built =
        BuildRecord(line, data.size() - (line.data() + line.size() - data.data()), &record);
    if (!built.ok()) {
      progress.bad_row = fmt::format("{}:{}: {}", label_, record_line, built.message());
      return progress;
    }
    out->push_back(std::move(record));
    ++produced;
  }
  return progress;
}

}  // namespace sluice
