#include "control/endpoint_indexes.h"

namespace sluice {
namespace {

// Columns a sorted index serves well by default: values people filter and order on.
bool IsScalar(FieldType type) {
  return type != FieldType::kText && type != FieldType::kBinary && type != FieldType::kJson &&
         type != FieldType::kPoint;
}

}  // namespace

Result<std::vector<IndexDefinition>> ResolveIndexes(const EndpointConfig& endpoint,
                                                    const Schema& schema) {
  std::vector<IndexDefinition> out;
  for (const IndexConfig& config : endpoint.indexes) {
    IndexDefinition index;
    if (!config.full_text.empty()) {
      auto column = schema.FindField(config.full_text);
      if (!column) {
        return config.location.Error("full_text: column '" + config.full_text +
                                     "' is not in table " + endpoint.table);
      }
      const FieldType type = schema.fields[*column].type;
      if (type != FieldType::kString && type != FieldType::kText) {
        return config.location.Error("full_text: column '" + config.full_text + "' is " +
                                     std::string(FieldTypeName(type)) +
                                     "; full-text indexes need string or text");
      }
      index.kind = IndexDefinition::Kind::kFullText;
      index.columns = {*column};
    } else {
      auto columns = schema.ResolveColumns(config.fields);
      if (!columns.ok()) return config.location.Error("fields: " + columns.status().message());
      index.columns = *columns;
    }
    for (const IndexDefinition& existing : out) {
      if (existing == index) {
        return config.location.Error("the same index is listed twice: " + index.Describe(schema));
      }
    }
    out.push_back(std::move(index));
  }
  if (out.empty() && endpoint.default_indexes) {
    for (size_t c = 0; c < schema.fields.size(); ++c) {
      // The primary key's first column is already the rows' own order.
      if (schema.has_primary_key() && schema.primary_key.size() == 1 &&
          schema.primary_key[0] == c) {
        continue;
      }
      if (IsScalar(schema.fields[c].type)) out.push_back({IndexDefinition::Kind::kSorted, {c}});
    }
  }
  return out;
}

}  // namespace sluice
