// The total order of query results and the keyset cursors that resume it (cache-internal).
// A row's sort key is the key codec of each $order_by column (bytes inverted for "desc"),
// then its row id (primary key or insertion sequence) in the direction of the last term, so
// every two rows compare by memcmp and no two compare equal. A cursor carries the last row's
// column encodings and row id, so a page can seek straight to where the previous one ended.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/cursor_cipher.h"
#include "cache/query_spec.h"
#include "common/status.h"
#include "types/schema.h"

namespace sluice {

struct CursorPosition {
  std::vector<std::string> columns;  // key codec of each order column (not inverted)
  std::string row_id;
};

class ResultOrder {
 public:
  ResultOrder(const Schema& schema, std::vector<OrderTerm> terms);

  const std::vector<OrderTerm>& terms() const { return terms_; }
  bool tie_descending() const { return !terms_.empty() && terms_.back().descending; }

  CursorPosition PositionOf(const Record& row, std::string_view row_id) const;
  std::string SortKey(const CursorPosition& position) const;

  // Cursors are sealed by `cipher` for `context` (the table): opaque to clients, and a cursor
  // changed, or made for another table or cache, does not open.
  std::string EncodeCursor(const CursorPosition& position, const CursorCipher& cipher,
                           std::string_view context) const;
  // InvalidArgument naming $after for malformed or foreign cursors or one made for another order.
  Result<CursorPosition> DecodeCursor(std::string_view cursor, const CursorCipher& cipher,
                                      std::string_view context) const;

 private:
  uint32_t Fingerprint() const;
  const Schema& schema_;
  std::vector<OrderTerm> terms_;
};

}  // namespace sluice
