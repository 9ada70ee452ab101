// The compact binary form of a record as stored in the cache: a null bitmap, then each
// non-null field in schema order (varints for integers, zigzag for signed ones, 8 bytes for
// floats, length-prefixed bytes for strings). The schema is not stored: the reader must hold
// the same schema the writer used (the cache checks a schema fingerprint for that).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice {

// Appends the encoding of `record` (which must match `schema`) to `out`.
void EncodeRow(const Schema& schema, const Record& record, std::string* out);

// Decodes a row; a truncated or malformed buffer is a DataLoss error, never a crash.
Result<Record> DecodeRow(const Schema& schema, std::string_view bytes);

}  // namespace sluice
