// The entries a stored row contributes to its table's secondary indexes (cache-internal).
// A sorted index entry is the key codec of the indexed columns followed by the row id; a
// full-text entry is a word, a 0 byte and the row id. The LMDB value of every entry is the
// row id (primary-key bytes or insertion sequence), so readers need not parse entries.
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

// Truncates an encoded sorted-index part to kMaxIndexPart bytes.
void LimitIndexPart(std::string* encoded);

}  // namespace sluice
