// The `generator` connection's source reader: one Nexmark table (person, auction or bid).
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace sluice {

// Errors: an unknown table name or primary-key column, naming the source's config location.
Result<std::unique_ptr<SourceReader>> OpenNexmarkSource(const ConnectionConfig& connection,
                                                        const SourceConfig& source);

}  // namespace sluice
