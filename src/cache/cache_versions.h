// CacheVersions: the versions of the cache under <home_dir>/cache. Each version is a directory
// v<N> holding one LMDB environment; the file CURRENT names the version readers are served
// from. When endpoint definitions change (or the cache must be rebuilt from the sources), a
// new version is built beside the current one, which keeps serving; Promote() switches
// CURRENT atomically once the new one has caught up, and the old version is deleted.
// A crash while building leaves CURRENT on the old version; the half-built one is discarded
// at the next start.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace sluice {

class CacheVersions {
 public:
  explicit CacheVersions(std::string root) : root_(std::move(root)) {}

  // The directory of the current version, or nullopt when none was promoted yet.
  Result<std::optional<std::string>> Current() const;
  // Deletes every version but `keep` (and any cache of the layout before versions).
  Status RemoveAllExcept(const std::optional<std::string>& keep) const;
  // A new, empty version directory numbered above every existing one.
  Result<std::string> Create() const;
  // Makes `version` current (atomic rename, synced).
  Status Promote(const std::string& version) const;

 private:
  std::string root_;
};

}  // namespace sluice
