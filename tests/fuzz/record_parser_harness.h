// The harness shared by csv_fuzz and jsonl_fuzz: a RecordParser (connectors/files) driven the
// way DirectoryTailer drives it, compared with itself.
//
// Input: two option bytes, then the file's bytes. Byte 0 seeds the sizes of the pieces the
// file arrives in (a file being appended to); byte 1 picks how many records each call may
// produce, and where a reader resumes.
// Contracts:
// - one Parse call over the whole file and the same file arriving in pieces (each call
//   offered the unconsumed rest plus what arrived) give the same records, bad rows, error
//   and end position: an incomplete record is never consumed, whatever the split;
// - bytes_consumed never exceeds the input and lines_consumed counts its '\n's;
// - a reader resuming at a record boundary (after re-reading the header with max_records 0)
//   produces exactly the records after that boundary;
// - every record has the schema's arity, values of the column types, no NULL in a
//   non-nullable column, and survives the row codec, the key codec and row JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "connectors/files/record_parser.h"
#include "types/schema.h"

namespace sluice::fuzz {

// The schema both parsers read into: every field type, `id` not nullable.
Schema RecordParserSchema();

void FuzzRecordParser(const std::function<std::unique_ptr<RecordParser>()>& make,
                      const uint8_t* data, size_t size);

}  // namespace sluice::fuzz
