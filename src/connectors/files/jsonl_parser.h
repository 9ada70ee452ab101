// JSON Lines as a RecordParser: one JSON object per line, its keys matched to schema columns by
// name. Keys the schema lacks are ignored; columns the object lacks are NULL. Lines holding only
// whitespace are skipped; a line that is not valid JSON or not an object, a value that does not
// convert to its column's type (ValueFromJson), or NULL in a non-nullable column is a bad row.
// A line ends with LF (a CR before it is dropped); a last line without LF is incomplete.
//
// Threading: one thread at a time (see RecordParser). The simdjson parser inside is reused for
// every line, so its buffers are allocated once per parser, not per line.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/files/record_parser.h"
#include "types/schema.h"

namespace sluice {

class JsonlParser final : public RecordParser {
 public:
  explicit JsonlParser(Schema schema);

  void StartFile(std::string label) override { label_ = std::move(label); }
  bool awaiting_header() const override { return false; }
  Result<ParseProgress> Parse(std::string_view data, int64_t first_line, size_t max_records,
                              std::vector<Record>* out) override;

 private:
  // Converts one line; an error is the reason the row is bad.
  // `readable_after` bytes after the line may be read (simdjson wants padding past the end).
  Status BuildRecord(std::string_view line, size_t readable_after, Record* record);

  Schema schema_;
  std::string label_;
  simdjson::dom::parser json_parser_;
  std::string padded_line_;  // scratch: a line copied with the padding simdjson reads past it
};

}  // namespace sluice
