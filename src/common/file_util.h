// Small filesystem helpers that report failures as Status.
#pragma once

#include <string>

#include "common/status.h"

namespace sluice {

Result<std::string> ReadFile(const std::string& path);
// Writes through a temporary file and rename, so readers never see half a file.
Status WriteFileAtomically(const std::string& path, const std::string& contents);
Status EnsureDirectory(const std::string& path);

}  // namespace sluice
