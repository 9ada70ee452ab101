// The change log's entry for one committed epoch (log/change_log.h stores it as an opaque
// payload): everything one cache commit applies, so a restart can redo it and an API node can
// build its cache from it.
//
//   [u8 format = 1][varint epoch][varint size of the served part][served part][rest]
//   served part: the changes of the tables API nodes serve (ids below `served_tables`)
//   rest: the changes of hidden tables, the source positions, the operator checkpoints and the
//         cache metadata — what only the app's own store needs
//
// The served part is a prefix, so the app sends API nodes ServedPrefix(entry) without
// re-encoding; DecodeLogEntry reads a whole entry or such a prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cache/cache_store.h"
#include "common/status.h"

namespace sluice {

// The cache metadata key holding the number of the last log entry the cache applied (written
// in the same transaction as the entry's changes, by the app and by API nodes).
constexpr const char* kLogSeqMeta = "log_seq";

std::string EncodeLogEntry(const CommitBatch& batch, uint32_t served_tables);
// The bytes of `entry` an API node needs; DataLoss when the entry is malformed.
Result<std::string_view> ServedPrefix(std::string_view entry);
Result<CommitBatch> DecodeLogEntry(std::string_view entry);

}  // namespace sluice
