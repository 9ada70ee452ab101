// Stored rows straight to JSON objects, without building Values: the readers' hot path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/schema.h"

namespace sluice {

// `field_prefixes[i]` is the already-escaped `"name":` of field i (see JsonFieldPrefixes); an
// empty prefix leaves field i out (fields a reader may not see).
Status AppendRowJson(const Schema& schema, std::string_view row,
                     const std::vector<std::string>& field_prefixes, std::string* out);
std::vector<std::string> JsonFieldPrefixes(const Schema& schema);

}  // namespace sluice
