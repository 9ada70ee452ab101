// RecordParser: the format half of the files connector. A parser turns bytes that start at a
// record boundary into typed records of one schema, and says how many bytes formed complete
// records, so the transport (DirectoryTailer) can keep only the unconsumed tail and offer it
// again once more bytes arrived. Formats know nothing about files on disk; transports know
// nothing about formats.
//
// Threading: a parser holds per-file state and scratch buffers; one thread uses it at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/value.h"

namespace sluice {

// What one RecordParser::Parse call did.
struct ParseProgress {
  // Bytes at the front of the input that were complete records, blank lines, a header or a bad
  // row. The remainder is an incomplete record: offer it again, followed by more bytes.
  size_t bytes_consumed = 0;
  // Line ends ('\n') inside those bytes, so the caller can number the lines that follow.
  int64_t lines_consumed = 0;
  // Set when parsing stopped right after a record that cannot become a row; its bytes are part
  // of bytes_consumed. The text is "<file>:<line>: <reason>" with the record's first line.
  std::optional<std::string> bad_row;
};

class RecordParser {
 public:
  virtual ~RecordParser() = default;

  // Forgets the previous file's state (a CSV header) and names the next file in messages.
  virtual void StartFile(std::string label) = 0;

  // True while the current file's header has not been parsed. A caller that resumes in the
  // middle of a file first parses the file's opening bytes (first_line 1, max_records 0) until
  // this turns false; the records those bytes hold are not produced again.
  virtual bool awaiting_header() const = 0;

  // Parses `data`, which starts at a record boundary on 1-based line `first_line` of the file.
  // Appends at most `max_records` rows to `out` and stops early at the first bad row. An
  // incomplete trailing record (no line end yet, or an open quoted field) is not consumed.
  // Errors are reserved for problems that make the rest of the file unreadable (a CSV header
  // that does not fit the schema); a bad row is reported in ParseProgress::bad_row instead.
  virtual Result<ParseProgress> Parse(std::string_view data, int64_t first_line, size_t max_records,
                                      std::vector<Record>* out) = 0;
};

}  // namespace sluice
