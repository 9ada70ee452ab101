// CSV files (connectors/files/csv_parser.h, RFC 4180 with a header row) as the files
// connector reads them; see record_parser_harness.h for the input format and contracts.
#include "connectors/files/csv_parser.h"
#include "fuzz_support.h"
#include "record_parser_harness.h"

namespace sluice::fuzz::csv {

int FuzzOne(const uint8_t* data, size_t size) {
  FuzzRecordParser([] { return std::make_unique<CsvParser>(RecordParserSchema()); }, data, size);
  // The header reader that infers a schema from a file: refuses only with InvalidArgument.
  if (size > 2) {
    std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
    auto header = ParseCsvHeader(text);
    if (!header.ok()) {
      FUZZ_CHECK(header.status().code() == StatusCode::kInvalidArgument, Describe(header.status()));
    }
  }
  return 0;
}

}  // namespace sluice::fuzz::csv
