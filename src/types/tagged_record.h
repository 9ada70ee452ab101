// A self-describing binary form of a record: each value carries its physical kind, so it can
// be read back without a schema. Operator checkpoints store the rows operators hold in this
// form (their intermediate rows have no schema of their own in the cache).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "types/value.h"

namespace sluice {

// Appends the encoding of `record` to `out`.
void EncodeTaggedRecord(const Record& record, std::string* out);

// Decodes one record; truncated or malformed bytes are a DataLoss error, never a crash.
Result<Record> DecodeTaggedRecord(std::string_view bytes);

}  // namespace sluice
