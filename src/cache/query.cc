#include "cache/query.h"

#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

bool Matches(const EqualityFilter& filter, const Record& record) {
  for (const auto& [column, value] : filter.terms) {
    if (value.is_null() || record[column].is_null() || !(record[column] == value)) return false;
  }
  return true;
}

// When the filter pins every primary-key column, returns the key values in key order.
std::optional<std::vector<Value>> PinnedKey(const Schema& schema, const EqualityFilter& filter) {
  if (!schema.has_primary_key()) return std::nullopt;
  std::vector<Value> key;
  for (size_t column : schema.primary_key) {
    const Value* found = nullptr;
    for (const auto& [c, v] : filter.terms) {
      if (c == column) found = &v;
    }
    if (!found) return std::nullopt;
    key.push_back(*found);
  }
  return key;
}

}  // namespace

Result<std::optional<std::string_view>> GetByKey(const ReadView& view, uint32_t table,
                                                 const Schema& schema,
                                                 const std::vector<Value>& key) {
  std::string encoded;
  for (size_t i = 0; i < key.size(); ++i) {
    EncodeKeyValue(schema.fields[schema.primary_key[i]].type, key[i], &encoded);
  }
  return view.Get(table, encoded);
}

// Whether a stored row passes the filter; rows are decoded only when there is one.
Result<bool> RowMatches(const Schema& schema, const EqualityFilter& filter, std::string_view row) {
  if (filter.terms.empty()) return true;
  ASSIGN_OR_RETURN(Record record, DecodeRow(schema, row));
  return Matches(filter, record);
}

Status RunQuery(const ReadView& view, uint32_t table, const Schema& schema, const Query& query,
                const std::function<bool(std::string_view row)>& visit) {
  if (query.limit == 0) return Status::OK();
  if (auto key = PinnedKey(schema, query.filter)) {
    for (const Value& v : *key) {
      if (v.is_null()) return Status::OK();
    }
    ASSIGN_OR_RETURN(auto row, GetByKey(view, table, schema, *key));
    if (!row || query.skip != 0) return Status::OK();
    ASSIGN_OR_RETURN(bool matches, RowMatches(schema, query.filter, *row));
    if (matches) visit(*row);
    return Status::OK();
  }
  uint64_t skipped = 0, emitted = 0;
  Status decode_error;
  RETURN_IF_ERROR(view.Scan(table, [&](std::string_view row, uint64_t copies) {
    auto matches = RowMatches(schema, query.filter, row);
    if (!matches.ok()) {
      decode_error = matches.status();
      return false;
    }
    if (!*matches) return true;
    for (uint64_t c = 0; c < copies; ++c) {
      if (skipped < query.skip) {
        ++skipped;
        continue;
      }
      if (!visit(row)) return false;
      if (++emitted >= query.limit) return false;
    }
    return true;
  }));
  return decode_error;
}

Result<uint64_t> CountQuery(const ReadView& view, uint32_t table, const Schema& schema,
                            const EqualityFilter& filter) {
  if (filter.terms.empty()) return view.Count(table);
  uint64_t count = 0;
  Query query;
  query.filter = filter;
  RETURN_IF_ERROR(RunQuery(view, table, schema, query, [&](std::string_view) {
    ++count;
    return true;
  }));
  return count;
}

}  // namespace sluice
