#include "connectors/files/csv_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "types/value_text.h"

namespace sluice {
namespace {

using FieldSpan = CsvParser::FieldSpan;

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

// Where one scanned record ends and whether it broke the quoting rules.
struct RecordExtent {
  size_t end = 0;  // offset just past the record's line end
  bool text_after_quote = false;
};

// Scans the record that starts at `pos` with a small state machine (field start, quoted field,
// unquoted field) and fills `fields` with its spans. Returns false when `data` ends before the
// record does (no line end yet, or inside a quoted field): the record is incomplete.
bool ScanRecord(std::string_view data, size_t pos, std::vector<FieldSpan>* fields,
                RecordExtent* extent) {
  fields->clear();
  extent->text_after_quote = false;
  const char* const base = data.data();
  const size_t size = data.size();
  size_t i = pos;
  while (true) {
    if (i >= size) return false;
    if (base[i] == '"') {
      const size_t begin = i + 1;
      bool doubled = false;
      size_t search = begin;
      size_t closing;
      while (true) {
        const void* quote = std::memchr(base + search, '"', size - search);
        if (quote == nullptr) return false;
        const size_t at = static_cast<const char*>(quote) - base;
        // The byte after a quote decides between "" (a literal quote) and the closing quote.
        if (at + 1 >= size) return false;
        if (base[at + 1] == '"') {
          doubled = true;
          search = at + 2;
          continue;
        }
        closing = at;
        break;
      }
      fields->push_back({begin, closing, /*quoted=*/true, doubled});
      i = closing + 1;
      if (base[i] == ',') {
        ++i;
        continue;
      }
      if (base[i] == '\n') {
        extent->end = i + 1;
        return true;
      }
      if (base[i] == '\r') {
        if (i + 1 >= size) return false;
        if (base[i + 1] == '\n') {
          extent->end = i + 2;
          return true;
        }
      }
      // Text after a closing quote breaks RFC 4180: skip it up to the field's end so the next
      // record still starts in the right place, and let the caller report the row.
      extent->text_after_quote = true;
      while (i < size && base[i] != ',' && base[i] != '\n') ++i;
      if (i >= size) return false;
      if (base[i] == ',') {
        ++i;
        continue;
      }
      extent->end = i + 1;
      return true;
    }
    size_t end = i;
    while (end < size && base[end] != ',' && base[end] != '\n') ++end;
    if (end >= size) return false;
    if (base[end] == ',') {
      fields->push_back({i, end, /*quoted=*/false, false});
      i = end + 1;
      continue;
    }
    const size_t line_end = end;
    if (end > i && base[end - 1] == '\r') --end;
    fields->push_back({i, end, /*quoted=*/false, false});
    extent->end = line_end + 1;
    return true;
  }
}

// Line ends inside the record: its terminator plus those embedded in quoted fields.
int64_t CountLineEnds(std::string_view data, const std::vector<FieldSpan>& fields) {
  int64_t count = 1;
  for (const FieldSpan& field : fields) {
    if (field.quoted) {
      count += std::count(data.data() + field.begin, data.data() + field.end, '\n');
    }
  }
  return count;
}

bool IsBlankLine(const std::vector<FieldSpan>& fields) {
  return fields.size() == 1 && !fields[0].quoted && fields[0].begin == fields[0].end;
}

// The text of a field with "" pairs undone (into `scratch` only when there are any).
std::string_view FieldText(std::string_view data, const FieldSpan& field, std::string* scratch) {
  std::string_view raw = data.substr(field.begin, field.end - field.begin);
  if (!field.has_doubled_quotes) return raw;
  scratch->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    scratch->push_back(raw[i]);
    if (raw[i] == '"') ++i;  // the second quote of a pair
  }
  return *scratch;
}

size_t SkipByteOrderMark(std::string_view data, int64_t first_line) {
  if (first_line == 1 && data.substr(0, kUtf8ByteOrderMark.size()) == kUtf8ByteOrderMark) {
    return kUtf8ByteOrderMark.size();
  }
  return 0;
}

}  // namespace

CsvParser::CsvParser(Schema schema) : schema_(std::move(schema)) {}

void CsvParser::StartFile(std::string label) {
  label_ = std::move(label);
  has_header_ = false;
  schema_column_of_header_.clear();
}

std::string CsvParser::BadRowMessage(int64_t line, std::string_view reason) const {
  return fmt::format("{}:{}: {}", label_, line, reason);
}

Status CsvParser::SetHeader(std::string_view data, int64_t line) {
  std::vector<int> columns(fields_.size(), -1);
  std::vector<bool> present(schema_.fields.size(), false);
  std::string scratch;
  for (size_t i = 0; i < fields_.size(); ++i) {
    std::string_view name = FieldText(data, fields_[i], &scratch);
    std::optional<size_t> column = schema_.FindField(name);
    if (!column) continue;
    if (present[*column]) {
      return InvalidArgument(
          BadRowMessage(line, fmt::format("header names column '{}' twice", name)));
    }
    present[*column] = true;
    columns[i] = static_cast<int>(*column);
  }
  for (size_t c = 0; c < schema_.fields.size(); ++c) {
    if (!present[c] && !schema_.fields[c].nullable) {
      return InvalidArgument(BadRowMessage(
          line, fmt::format("header has no column '{}', which the schema declares not nullable",
                            schema_.fields[c].name)));
    }
  }
  schema_column_of_header_ = std::move(columns);
  has_header_ = true;
  return Status::OK();
}

Status CsvParser::BuildRecord(std::string_view data, Record* record) {
  if (fields_.size() != schema_column_of_header_.size()) {
    return InvalidArgument(fmt::format("expected {} fields as in the header, got {}",
                                       schema_column_of_header_.size(), fields_.size()));
  }
  record->assign(schema_.fields.size(), Value::Null());
  for (size_t i = 0; i < fields_.size(); ++i) {
    const int column = schema_column_of_header_[i];
    if (column < 0) continue;
    const FieldSpan& span = fields_[i];
    if (!span.quoted && span.begin == span.end) continue;  // unquoted empty: NULL
    const Field& field = schema_.fields[column];
    Result<Value> value = ParseValueText(field.type, FieldText(data, span, &unescaped_));
    if (!value.ok()) {
      return InvalidArgument(fmt::format("column '{}': {}", field.name, value.status().message()));
    }
    (*record)[column] = std::move(value).value();
  }
  for (size_t c = 0; c < schema_.fields.size(); ++c) {
    if ((*record)[c].is_null() && !schema_.fields[c].nullable) {
      return InvalidArgument(
          fmt::format("column '{}': NULL in a non-nullable column", schema_.fields[c].name));
    }
  }
  return Status::OK();
}

Result<ParseProgress> CsvParser::Parse(std::string_view data, int64_t first_line,
                                       size_t max_records, std::vector<Record>* out) {
  ParseProgress progress;
  size_t pos = SkipByteOrderMark(data, first_line);
  int64_t line = first_line;
  size_t produced = 0;
  RecordExtent extent;
  while (!has_header_ || produced < max_records) {
    if (!ScanRecord(data, pos, &fields_, &extent)) break;
    const int64_t record_line = line;
    line += CountLineEnds(data, fields_);
    pos = extent.end;
    progress.bytes_consumed = pos;
    progress.lines_consumed = line - first_line;
    if (IsBlankLine(fields_)) continue;
    if (extent.text_after_quote) {
      std::string_view reason = "text after the closing quote of a quoted field";
      if (!has_header_) return InvalidArgument(BadRowMessage(record_line, reason));
      progress.bad_row = BadRowMessage(record_line, reason);
      return progress;
    }
    if (!has_header_) {
      RETURN_IF_ERROR(SetHeader(data, record_line));
      continue;
    }
    Record record;
    Status built = BuildRecord(data, &record);
    if (!built.ok()) {
      progress.bad_row = BadRowMessage(record_line, built.message());
      return progress;
    }
    out->push_back(std::move(record));
    ++produced;
  }
  return progress;
}

Result<std::optional<std::vector<std::string>>> ParseCsvHeader(std::string_view data) {
  std::vector<FieldSpan> fields;
  RecordExtent extent;
  size_t pos = SkipByteOrderMark(data, 1);
  int64_t line = 1;
  while (true) {
    if (!ScanRecord(data, pos, &fields, &extent)) return std::optional<std::vector<std::string>>();
    const int64_t record_line = line;
    line += CountLineEnds(data, fields);
    pos = extent.end;
    if (IsBlankLine(fields)) continue;
    if (extent.text_after_quote) {
      return InvalidArgument(
          fmt::format("line {}: text after the closing quote of a quoted field", record_line));
    }
    std::vector<std::string> names;
    std::string scratch;
    for (const FieldSpan& field : fields) names.emplace_back(FieldText(data, field, &scratch));
    return std::optional<std::vector<std::string>>(std::move(names));
  }
}

}  // namespace sluice
