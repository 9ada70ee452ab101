// Type modifiers of a CAST: numeric(p, s), varchar(n), timestamp(p). PostgreSQL applies them
// to the cast's result (rounding, truncating, or a "numeric field overflow" error); Sluice must
// too, or `CAST(x AS numeric(14,2))` answers with x's own scale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sql/expr.h"

namespace sluice {

// Wraps `cast` (already of the target's FieldType) with what the modifiers `mods` of the
// PostgreSQL type `pg_type` require. Modifiers out of PostgreSQL's ranges are errors as
// PostgreSQL words them; modifiers Sluice cannot honour (character(n), interval fields) are
// Unimplemented, so `sluice check` refuses the statement instead of answering differently.
Result<ExprPtr> ApplyTypeModifiers(ExprPtr cast, const std::string& pg_type,
                                   const std::vector<int64_t>& mods);

}  // namespace sluice
