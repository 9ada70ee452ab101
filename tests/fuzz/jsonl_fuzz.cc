// JSON Lines files (connectors/files/jsonl_parser.h) as the files connector reads them; see
// record_parser_harness.h for the input format and contracts.
#include "connectors/files/jsonl_parser.h"
#include "record_parser_harness.h"

namespace sluice::fuzz::jsonl {

int FuzzOne(const uint8_t* data, size_t size) {
  FuzzRecordParser([] { return std::make_unique<JsonlParser>(RecordParserSchema()); }, data, size);
  return 0;
}

}  // namespace sluice::fuzz::jsonl
