// The entries a stored row contributes to its table's secondary indexes (cache-internal).
// A sorted index entry is the key codec of the indexed columns followed by the row id; a
// full-text entry is a word, a 0 byte and the row id. The LMDB value of a full-text entry is
// the row id (primary-key bytes or insertion sequence); a sorted entry's value also carries
// the row (SortedEntryValue), so a range is read in one pass over the index, without a
// descent of the rows' tree per row (see docs/benchmarks.md, Query API).
// Index parts longer than kMaxIndexPart bytes are truncated (LMDB keys are at most 511
// bytes); queries re-check every row against the filter, so truncation costs speed only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_store.h"
#include "common/status.h"
#include "types/value.h"

namespace sluice {

constexpr size_t kMaxIndexPart = 384;
constexpr size_t kMaxWordBytes = 64;

// Per index of `table`, the entries of `row` (sorted, deduplicated).
Result<std::vector<std::vector<std::string>>> IndexEntries(const TableDefinition& table,
                                                           std::string_view row,
                                                           std::string_view row_id);

// The prefix every full-text entry of `word` starts with (the word truncated and terminated).
std::string WordEntryPrefix(std::string_view word);

// The value of a sorted-index entry: varint length of the row id, the row id, the row.
std::string SortedEntryValue(std::string_view row_id, std::string_view row);
// Splits such a value; false when malformed.
bool SplitSortedEntryValue(std::string_view value, std::string_view* row_id, std::string_view* row);

// Truncates an encoded sorted-index part to kMaxIndexPart bytes.
void LimitIndexPart(std::string* encoded);

}  // namespace sluice
