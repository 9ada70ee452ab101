#include "cache/cache_versions.h"

#include <charconv>
#include <filesystem>

#include "common/file_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// The number of a version directory name "v<N>", or nullopt for anything else.
std::optional<uint64_t> VersionNumber(const std::string& name) {
  if (name.size() < 2 || name[0] != 'v') return std::nullopt;
  uint64_t n;
  auto [ptr, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
  if (ec != std::errc() || ptr != name.data() + name.size()) return std::nullopt;
  return n;
}

}  // namespace

Result<std::optional<std::string>> CacheVersions::Current() const {
  const std::string pointer = root_ + "/CURRENT";
  if (!fs::exists(pointer)) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string name, ReadFile(pointer));
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (!VersionNumber(name) || !fs::is_directory(root_ + "/" + name)) {
    return DataLoss(pointer + " names '" + name + "', which is not a cache version here");
  }
  return std::optional<std::string>(root_ + "/" + name);
}

Status CacheVersions::RemoveAllExcept(const std::optional<std::string>& keep) const {
  std::error_code ec;
  if (!fs::is_directory(root_)) return Status::OK();
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "CURRENT" || (keep && entry.path() == fs::path(*keep))) continue;
    // Versions, and data.mdb/lock.mdb of the single-environment layout of earlier releases.
    if (VersionNumber(name) || name == "data.mdb" || name == "lock.mdb") {
      fs::remove_all(entry.path(), ec);
      if (ec)
        return ErrnoError("cannot remove old cache version", entry.path().string(), ec.value());
    }
  }
  return Status::OK();
}

Result<std::string> CacheVersions::Create() const {
  RETURN_IF_ERROR(EnsureDirectory(root_));
  uint64_t highest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    if (auto n = VersionNumber(entry.path().filename().string())) highest = std::max(highest, *n);
  }
  const std::string path = root_ + "/v" + std::to_string(highest + 1);
  RETURN_IF_ERROR(EnsureDirectory(path));
  return path;
}

Status CacheVersions::Promote(const std::string& version) const {
  return WriteFileAtomically(root_ + "/CURRENT", fs::path(version).filename().string() + "\n");
}

}  // namespace sluice
