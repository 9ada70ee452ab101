// Binder: turns the `sql:` text of a config into BoundSelect plans, resolving names and types
// against the catalog with PostgreSQL's rules. Anything unsupported fails with the construct
// and its line:column, e.g. "window functions are not supported at 3:12".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "sql/bound_select.h"

namespace sluice {

// `first_line` is the config line the SQL text starts on (for line:column in errors).
// Each statement's INTO table is added to `catalog` so later statements can read it.
Result<std::vector<std::unique_ptr<BoundSelect>>> BindSqlScript(const std::string& sql,
                                                                int first_line,
                                                                TableCatalog& catalog);

}  // namespace sluice
