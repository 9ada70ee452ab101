#include "cache/index_entries.h"

#include <algorithm>

#include "cache/text_tokens.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/varint.h"

namespace sluice {

std::string SortedEntryValue(std::string_view row_id, std::string_view row) {
  std::string value;
  value.reserve(row_id.size() + row.size() + 2);
  AppendVarint(row_id.size(), &value);
  value.append(row_id);
  value.append(row);
  return value;
}

bool SplitSortedEntryValue(std::string_view value, std::string_view* row_id,
                           std::string_view* row) {
  VarintReader in(value);
  auto size = in.Varint();
  auto id = size ? in.Bytes(*size) : std::nullopt;
  if (!id) return false;
  *row_id = *id;
  *row = value.substr(id->data() + id->size() - value.data());
  return true;
}

void LimitIndexPart(std::string* encoded) {
  if (encoded->size() > kMaxIndexPart) encoded->resize(kMaxIndexPart);
}

std::string WordEntryPrefix(std::string_view word) {
  std::string out(word.substr(0, kMaxWordBytes));
  out.push_back('\0');
  return out;
}

Result<std::vector<std::vector<std::string>>> IndexEntries(const TableDefinition& table,
                                                           std::string_view row,
                                                           std::string_view row_id) {
  std::vector<std::vector<std::string>> out(table.indexes.size());
  if (table.indexes.empty()) return out;
  ASSIGN_OR_RETURN(Record record, DecodeRow(table.schema, row));
  for (size_t i = 0; i < table.indexes.size(); ++i) {
    const IndexDefinition& index = table.indexes[i];
    if (index.kind == IndexDefinition::Kind::kSorted) {
      std::string entry;
      EncodeKey(table.schema, record, index.columns, &entry);
      LimitIndexPart(&entry);
      entry.append(row_id);
      out[i].push_back(std::move(entry));
      continue;
    }
    const Value& text = record[index.columns[0]];
    if (text.is_null()) continue;
    for (const std::string& word : TextWords(text.as_string())) {
      out[i].push_back(WordEntryPrefix(word) + std::string(row_id));
    }
    std::sort(out[i].begin(), out[i].end());
    out[i].erase(std::unique(out[i].begin(), out[i].end()), out[i].end());
  }
  return out;
}

}  // namespace sluice
