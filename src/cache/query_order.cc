#include "cache/query_order.h"

#include <cstring>

#include "types/base64url.h"
#include "types/key_codec.h"
#include "types/varint.h"

namespace sluice {
namespace {

constexpr char kCursorVersion = 1;

void AppendInverted(std::string_view bytes, bool invert, std::string* out) {
  if (!invert) {
    out->append(bytes);
    return;
  }
  for (char c : bytes) out->push_back(char(~uint8_t(c)));
}

}  // namespace

ResultOrder::ResultOrder(const Schema& schema, std::vector<OrderTerm> terms)
    : schema_(schema), terms_(std::move(terms)) {}

CursorPosition ResultOrder::PositionOf(const Record& row, std::string_view row_id) const {
  CursorPosition position;
  for (const OrderTerm& term : terms_) {
    std::string encoded;
    EncodeKeyValue(schema_.fields[term.column].type, row[term.column], &encoded);
    position.columns.push_back(std::move(encoded));
  }
  position.row_id = std::string(row_id);
  return position;
}

std::string ResultOrder::SortKey(const CursorPosition& position) const {
  std::string key;
  for (size_t i = 0; i < terms_.size(); ++i) {
    AppendInverted(position.columns[i], terms_[i].descending, &key);
  }
  AppendInverted(position.row_id, tie_descending(), &key);
  return key;
}

uint32_t ResultOrder::Fingerprint() const {
  uint32_t h = 2166136261u;  // FNV-1a over (column, direction) pairs
  for (const OrderTerm& term : terms_) {
    for (uint32_t part : {uint32_t(term.column), uint32_t(term.descending)}) {
      h = (h ^ part) * 16777619u;
    }
  }
  return h;
}

std::string ResultOrder::EncodeCursor(const CursorPosition& position, const CursorCipher& cipher,
                                      std::string_view context) const {
  std::string raw;
  raw.push_back(kCursorVersion);
  const uint32_t fingerprint = Fingerprint();
  raw.append(reinterpret_cast<const char*>(&fingerprint), 4);
  for (const std::string& column : position.columns) {
    AppendVarint(column.size(), &raw);
    raw += column;
  }
  AppendVarint(position.row_id.size(), &raw);
  raw += position.row_id;
  return EncodeBase64Url(cipher.Seal(raw, context));  // safe in URLs and headers
}

Result<CursorPosition> ResultOrder::DecodeCursor(std::string_view cursor,
                                                 const CursorCipher& cipher,
                                                 std::string_view context) const {
  auto malformed = [] {
    return InvalidArgument("$after: malformed cursor (use the X-Sluice-Cursor value unchanged)");
  };
  auto sealed = DecodeBase64Url(cursor);
  auto raw = sealed ? cipher.Open(*sealed, context) : std::nullopt;
  if (!raw || raw->size() < 5 || (*raw)[0] != kCursorVersion) return malformed();
  uint32_t fingerprint;
  std::memcpy(&fingerprint, raw->data() + 1, 4);
  if (fingerprint != Fingerprint()) {
    return InvalidArgument(
        "$after: this cursor was made for a different $order_by; use the same order as the "
        "query that returned it");
  }
  VarintReader in(std::string_view(*raw).substr(5));
  CursorPosition position;
  for (size_t i = 0; i <= terms_.size(); ++i) {
    auto size = in.Varint();
    auto bytes = size ? in.Bytes(*size) : std::nullopt;
    if (!bytes) return malformed();
    if (i < terms_.size()) {
      position.columns.emplace_back(*bytes);
    } else {
      position.row_id = std::string(*bytes);
    }
  }
  if (!in.done()) return malformed();
  return position;
}

}  // namespace sluice
