// CSV (RFC 4180) as a RecordParser: every file starts with a header row, and its columns are
// matched to the schema by name, so files of one table may order or omit columns differently.
//
// Rules: fields are separated by ',' and records end with LF or CRLF. A field in double quotes
// may hold ',', CR, LF and doubled quotes (""). An unquoted empty field is NULL, a quoted empty
// field ("") the empty string. A quote inside an unquoted field is kept as a literal character.
// Lines that are entirely empty are skipped. A UTF-8 byte order mark at the start of a file is
// ignored. Header columns the schema lacks are ignored; schema columns the header lacks are NULL
// (an error for a non-nullable column). A record with another number of fields than the header,
// text after a closing quote, a value that does not parse as its column's type, or NULL in a
// non-nullable column is a bad row.
//
// Threading: one thread at a time (see RecordParser).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/files/record_parser.h"
#include "types/schema.h"

namespace sluice {

class CsvParser final : public RecordParser {
 public:
  explicit CsvParser(Schema schema);

  void StartFile(std::string label) override;
  bool awaiting_header() const override { return !has_header_; }
  Result<ParseProgress> Parse(std::string_view data, int64_t first_line, size_t max_records,
                              std::vector<Record>* out) override;

  // Where one field of the record being parsed lies in the input (offsets into `data`).
  struct FieldSpan {
    size_t begin = 0;
    size_t end = 0;
    bool quoted = false;
    bool has_doubled_quotes = false;  // the raw text still holds "" pairs to unescape
  };

 private:
  Status SetHeader(std::string_view data, int64_t line);
  // Converts the scanned fields of one record; an error is the reason the row is bad.
  Status BuildRecord(std::string_view data, Record* record);
  std::string BadRowMessage(int64_t line, std::string_view reason) const;

  Schema schema_;
  std::string label_;
  bool has_header_ = false;
  // For each header column: the schema column it fills, or -1 when the schema lacks it.
  std::vector<int> schema_column_of_header_;
  std::vector<FieldSpan> fields_;  // scratch: the fields of the record being parsed
  std::string unescaped_;          // scratch: a quoted field with its "" pairs undone
};

// Reads the header row at the start of a CSV file's bytes: the column names, or nullopt while
// the bytes do not hold a complete first record yet. Used to infer a schema from a file.
Result<std::optional<std::vector<std::string>>> ParseCsvHeader(std::string_view data);

}  // namespace sluice
