#include "connectors/files/directory_tailer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

namespace sluice {
namespace {

constexpr std::string_view kPositionHeader = "files-position v1";

// pread until `size` bytes or the end of the file; returns the number of bytes read.
Result<size_t> ReadAt(int fd, char* out, size_t size, uint64_t offset,
                      const std::filesystem::path& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path.string(), errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

void AppendEscapedName(std::string_view name, std::string* out) {
  for (char c : name) {
    switch (c) {
      case '%':
        out->append("%25");
        break;
      case '\r':
        out->append("%0D");
        break;
      case '\n':
        out->append("%0A");
        break;
      default:
        out->push_back(c);
    }
  }
}

std::optional<std::string> UnescapeName(std::string_view text) {
  std::string name;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      name.push_back(text[i]);
      continue;
    }
    unsigned byte = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, byte, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    name.push_back(static_cast<char>(byte));
    i += 2;
  }
  return name;
}

// Whether a directory entry named `name` is one of the files the tailer follows.
bool IsTailedName(std::string_view name, std::string_view extension) {
  return name.size() > extension.size() && name.front() != '.' && name.ends_with(extension);
}

template <typename Int>
bool ParseNumber(std::string_view text, Int* value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

int DirectoryTailer::OpenFile::Open(const std::filesystem::path& path) {
  Close();
  do {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd_ < 0 && errno == EINTR);
  return fd_ < 0 ? errno : 0;
}

void DirectoryTailer::OpenFile::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

DirectoryTailer::DirectoryTailer(std::filesystem::path directory, std::string extension,
                                 size_t read_chunk_bytes)
    : directory_(std::move(directory)),
      extension_(std::move(extension)),
      read_chunk_bytes_(std::max<size_t>(read_chunk_bytes, 1)),
      current_(files_.end()) {}

DirectoryTailer::~DirectoryTailer() = default;

void DirectoryTailer::Restore(const std::vector<FilePosition>& positions) {
  for (const FilePosition& position : positions) {
    TailedFile& file = files_[position.name];
    file.consumed_offset = position.offset;
    file.consumed_lines = position.lines;
    file.read_end = position.offset;
  }
  current_ = files_.end();
}

Status DirectoryTailer::Rescan() {
  LeaveCurrentFile();
  std::error_code error;
  std::filesystem::directory_iterator it(directory_, error);
  if (error) return IoError("cannot list " + directory_.string() + ": " + error.message());
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return IoError("cannot list " + directory_.string() + ": " + error.message());
    std::string name = it->path().filename().string();
    if (!IsTailedName(name, extension_)) continue;
    std::error_code status_error;
    if (!it->is_regular_file(status_error)) continue;
    const uint64_t size = it->file_size(status_error);
    if (status_error) continue;  // removed while listing
    TailedFile& file = files_[name];
    file.size_on_disk = size;
    if (size < file.consumed_offset && !file.shrink_reported) {
      file.shrink_reported = true;
      spdlog::warn(
          "{}: file shrank to {} bytes, below the {} bytes already read; files are expected to "
          "only grow, so it is ignored until it grows past that point",
          (directory_ / name).string(), size, file.consumed_offset);
    }
  }
  if (error) return IoError("cannot list " + directory_.string() + ": " + error.message());
  current_ = files_.begin();
  return Status::OK();
}

void DirectoryTailer::LeaveCurrentFile() {
  open_file_.Close();
  buffer_begin_ = buffer_end_ = 0;
  // A record far larger than a chunk grew the buffer; do not keep that memory while idle.
  if (buffer_.size() > 2 * read_chunk_bytes_) std::string().swap(buffer_);
}

Result<std::optional<DirectoryTailer::Chunk>> DirectoryTailer::Next() {
  while (current_ != files_.end()) {
    const std::string& name = current_->first;
    TailedFile& file = current_->second;
    if (!open_file_.is_open()) {
      if (file.size_on_disk <= file.read_end) {
        ++current_;
        continue;
      }
      if (int error = open_file_.Open(directory_ / name); error != 0) {
        if (error == ENOENT) {  // removed since the listing
          ++current_;
          continue;
        }
        return ErrnoError("cannot open", (directory_ / name).string(), error);
      }
      buffer_begin_ = buffer_end_ = 0;
    }
    // Keep only the unconsumed tail, then append the next chunk of the file after it.
    if (buffer_begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + buffer_begin_, buffer_end_ - buffer_begin_);
      buffer_end_ -= buffer_begin_;
      buffer_begin_ = 0;
    }
    if (buffer_.size() < buffer_end_ + read_chunk_bytes_) {
      buffer_.resize(buffer_end_ + read_chunk_bytes_);
    }
    const uint64_t read_offset = file.consumed_offset + buffer_end_;
    ASSIGN_OR_RETURN(size_t read, ReadAt(open_file_.fd(), buffer_.data() + buffer_end_,
                                         read_chunk_bytes_, read_offset, directory_ / name));
    if (read > 0) {
      buffer_end_ += read;
      return std::optional<Chunk>(Chunk{name, std::string_view(buffer_.data(), buffer_end_),
                                        file.consumed_offset, file.consumed_lines});
    }
    file.read_end = read_offset;
    file.size_on_disk = std::max(file.size_on_disk, read_offset);
    LeaveCurrentFile();
    ++current_;
  }
  return std::optional<Chunk>();
}

void DirectoryTailer::Consume(size_t bytes, int64_t lines) {
  if (current_ == files_.end()) return;
  TailedFile& file = current_->second;
  buffer_begin_ += bytes;
  file.consumed_offset += bytes;
  file.consumed_lines += lines;
}

std::vector<DirectoryTailer::FilePosition> DirectoryTailer::positions() const {
  std::vector<FilePosition> out;
  for (const auto& [name, file] : files_) {
    if (file.consumed_offset == 0 && file.consumed_lines == 0) continue;
    out.push_back({name, file.consumed_offset, file.consumed_lines});
  }
  return out;
}

std::string DirectoryTailer::EncodePositions(const std::vector<FilePosition>& positions) {
  std::string out(kPositionHeader);
  out.push_back('\n');
  for (const FilePosition& position : positions) {
    out.append(std::to_string(position.offset));
    out.push_back(' ');
    out.append(std::to_string(position.lines));
    out.push_back(' ');
    AppendEscapedName(position.name, &out);
    out.push_back('\n');
  }
  return out;
}

Result<std::vector<DirectoryTailer::FilePosition>> DirectoryTailer::DecodePositions(
    std::string_view text) {
  auto malformed = [](std::string_view why) {
    return InvalidArgument("malformed files position: " + std::string(why));
  };
  std::vector<FilePosition> positions;
  std::set<std::string, std::less<>> names;
  size_t line_start = 0;
  bool saw_header = false;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (!saw_header) {
      if (line != kPositionHeader) {
        return malformed("expected a first line '" + std::string(kPositionHeader) + "'");
      }
      saw_header = true;
      continue;
    }
    const size_t first_space = line.find(' ');
    const size_t second_space =
        first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos || second_space + 1 >= line.size()) {
      return malformed("expected '<offset> <lines> <name>', got '" + std::string(line) + "'");
    }
    FilePosition position;
    if (!ParseNumber(line.substr(0, first_space), &position.offset) ||
        !ParseNumber(line.substr(first_space + 1, second_space - first_space - 1),
                     &position.lines) ||
        position.lines < 0 || static_cast<uint64_t>(position.lines) > position.offset) {
      return malformed("bad offset or line count in '" + std::string(line) + "'");
    }
    std::optional<std::string> name = UnescapeName(line.substr(second_space + 1));
    if (!name) return malformed("bad %-escape in '" + std::string(line) + "'");
    if (!names.insert(*name).second) return malformed("file '" + *name + "' appears twice");
    position.name = std::move(*name);
    positions.push_back(std::move(position));
  }
  if (!saw_header) return malformed("empty");
  return positions;
}

Result<std::vector<std::string>> DirectoryTailer::ListFiles(const std::filesystem::path& directory,
                                                            std::string_view extension) {
  std::vector<std::string> names;
  std::error_code error;
  std::filesystem::directory_iterator it(directory, error);
  if (error) return IoError("cannot list " + directory.string() + ": " + error.message());
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return IoError("cannot list " + directory.string() + ": " + error.message());
    std::string name = it->path().filename().string();
    if (!IsTailedName(name, extension)) continue;
    std::error_code status_error;
    if (it->is_regular_file(status_error)) names.push_back(std::move(name));
  }
  if (error) return IoError("cannot list " + directory.string() + ": " + error.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> DirectoryTailer::ReadFileBytes(const std::filesystem::path& path,
                                                   uint64_t offset, size_t max_bytes) {
  OpenFile file;
  if (int error = file.Open(path); error != 0)
    return ErrnoError("cannot open", path.string(), error);
  std::string bytes(max_bytes, '\0');
  ASSIGN_OR_RETURN(size_t read, ReadAt(file.fd(), bytes.data(), max_bytes, offset, path));
  bytes.resize(read);
  return bytes;
}

}  // namespace sluice
