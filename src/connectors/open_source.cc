#include "connectors/connector.h"
#include "connectors/files/files_source.h"
#include "connectors/generator/nexmark_source.h"

namespace sluice {

Result<std::unique_ptr<SourceReader>> OpenSource(const ConnectionConfig& connection,
                                                 const SourceConfig& source) {
  switch (connection.kind) {
    case ConnectionKind::kGenerator:
      return OpenNexmarkSource(connection, source);
    case ConnectionKind::kFiles:
      return OpenFilesSource(connection, source);
  }
  return Internal("unknown connection kind");
}

}  // namespace sluice
