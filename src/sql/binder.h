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

// `first_line` and `indent` place the SQL text in the config file, so errors say line:column
// of the file. Each statement's INTO table is added to `catalog` so later ones can read it.
Result<std::vector<std::unique_ptr<BoundSelect>>> BindSqlScript(const std::string& sql,
                                                                int first_line,
                                                                TableCatalog& catalog,
                                                                int indent = 0);

}  // namespace sluice
