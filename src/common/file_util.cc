#include "common/file_util.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("cannot open", path, errno);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return ErrnoError("cannot read", path, errno);
  return out.str();
}

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return ErrnoError("cannot create", tmp, errno);
    out << contents;
    if (!out.flush()) return ErrnoError("cannot write", tmp, errno);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::OK();
}

Status EnsureDirectory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return IoError("cannot create directory " + path + ": " + ec.message());
  return Status::OK();
}

}  // namespace sluice
