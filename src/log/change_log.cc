#include "log/change_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <optional>

#include "common/file_util.h"

namespace sluice {
namespace {

constexpr size_t kHeaderSize = 16;  // size, crc, seq
constexpr uint32_t kMaxPayload = 1u << 30;

void PutLe(uint64_t v, int bytes, char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = char(uint8_t(v >> (8 * i)));
}

uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

uint32_t FrameCrc(const char* seq_bytes, std::string_view payload) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(seq_bytes), 8);
  return uint32_t(crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), uInt(payload.size())));
}

// The first sequence number a segment file's name "<20 digits>.log" holds; nullopt for a file
// that is not a segment (a stray file must not stop the log from opening).
std::optional<uint64_t> SegmentFirstSeq(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".log")) return std::nullopt;
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, seq);
  if (ec != std::errc() || end != name.data() + 20) return std::nullopt;
  return seq;
}

std::string SegmentName(uint64_t first_seq) {
  char name[32];
  snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(first_seq));
  return name;
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot write", path, errno);
    data += n;
    size -= size_t(n);
  }
  return Status::OK();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", dir, errno);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : ErrnoError("cannot sync", dir, errno);
}

}  // namespace

Result<std::unique_ptr<ChangeLog>> ChangeLog::Open(const std::string& dir,
                                                   const ChangeLogOptions& options) {
  RETURN_IF_ERROR(EnsureDirectory(dir));
  auto log = std::unique_ptr<ChangeLog>(new ChangeLog());
  log->dir_ = dir;
  log->options_ = options;
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoError("cannot list", dir, errno);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (SegmentFirstSeq(name)) {
      names.push_back(name);
    } else if (name.ends_with(".log")) {
      spdlog::warn("change log: ignoring {}/{}, which is not a segment (<20 digits>.log)", dir,
                   name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i < names.size(); ++i) {
    Segment segment;
    segment.path = dir + "/" + names[i];
    segment.first_seq = *SegmentFirstSeq(names[i]);
    const uint64_t expected = log->segments_.empty() ? segment.first_seq : log->next_seq_;
    uint64_t torn_at = 0;
    RETURN_IF_ERROR(log->Scan(segment, expected, &torn_at));
    const bool last = i + 1 == names.size();
    if (torn_at < segment.bytes) {
      if (!last) {
        return DataLoss("change log segment " + segment.path + " is corrupt at byte " +
                        std::to_string(torn_at) + " (a later segment exists, so this is not a " +
                        "torn write)");
      }
      spdlog::warn(
          "change log: {} ends in a torn or corrupt entry at byte {}; cutting {} bytes "
          "and continuing after entry {}",
          segment.path, torn_at, segment.bytes - torn_at,
          segment.first_seq + segment.offsets.size() - 1);
      if (::truncate(segment.path.c_str(), off_t(torn_at)) != 0) {
        return ErrnoError("cannot truncate", segment.path, errno);
      }
      log->truncated_bytes_ = segment.bytes - torn_at;
      segment.bytes = torn_at;
    }
    log->next_seq_ = segment.first_seq + segment.offsets.size();
    log->segments_.push_back(std::move(segment));
  }
  RETURN_IF_ERROR(log->OpenTail());
  return log;
}

ChangeLog::~ChangeLog() {
  if (tail_fd_ >= 0) ::close(tail_fd_);
}

Status ChangeLog::Scan(Segment& segment, uint64_t expected_first, uint64_t* torn_at) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(segment.path));
  segment.bytes = data.size();
  if (segment.first_seq != expected_first) {
    return DataLoss("change log segment " + segment.path + " starts at entry " +
                    std::to_string(segment.first_seq) + ", expected " +
                    std::to_string(expected_first) + " (a segment is missing)");
  }
  size_t pos = 0;
  uint64_t seq = segment.first_seq;
  while (pos + kHeaderSize <= data.size()) {
    const char* p = data.data() + pos;
    const uint64_t size = GetLe(p, 4);
    if (size > kMaxPayload || size > data.size() - pos - kHeaderSize) break;
    std::string_view payload(p + kHeaderSize, size);
    if (GetLe(p + 4, 4) != FrameCrc(p + 8, payload) || GetLe(p + 8, 8) != seq) break;
    segment.offsets.push_back(pos);
    pos += kHeaderSize + size;
    ++seq;
  }
  *torn_at = pos;
  return Status::OK();
}

Status ChangeLog::OpenTail() {
  if (tail_fd_ >= 0) ::close(tail_fd_);
  tail_fd_ = -1;
  if (segments_.empty()) return Roll(next_seq_);
  const std::string& path = segments_.back().path;
  tail_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (tail_fd_ < 0) return ErrnoError("cannot open", path, errno);
  return Status::OK();
}

Status ChangeLog::Roll(uint64_t first_seq) {
  if (tail_fd_ >= 0) {
    if (::fdatasync(tail_fd_) != 0) return ErrnoError("cannot sync", segments_.back().path, errno);
    ::close(tail_fd_);
  }
  Segment segment;
  segment.first_seq = first_seq;
  segment.path = dir_ + "/" + SegmentName(first_seq);
  tail_fd_ =
      ::open(segment.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (tail_fd_ < 0) return ErrnoError("cannot create", segment.path, errno);
  RETURN_IF_ERROR(SyncDirectory(dir_));
  std::lock_guard lock(mu_);
  segments_.push_back(std::move(segment));
  return Status::OK();
}

Result<uint64_t> ChangeLog::Append(std::string_view payload) {
  if (payload.size() > kMaxPayload) {
    return InvalidArgument("a change log entry of " + std::to_string(payload.size()) +
                           " bytes exceeds the 1 GiB limit");
  }
  if (segments_.back().bytes >= options_.segment_bytes) RETURN_IF_ERROR(Roll(next_seq_));
  Segment& tail = segments_.back();
  const uint64_t seq = next_seq_;
  char header[kHeaderSize];
  PutLe(payload.size(), 4, header);
  PutLe(seq, 8, header + 8);
  PutLe(FrameCrc(header + 8, payload), 4, header + 4);
  std::string frame(header, kHeaderSize);
  frame.append(payload);
  Status written = WriteAll(tail_fd_, frame.data(), frame.size(), tail.path);
  if (!written.ok()) {
    // Leave no partial frame behind for the next append to follow.
    (void)::ftruncate(tail_fd_, off_t(tail.bytes));
    return written;
  }
  std::lock_guard lock(mu_);
  tail.offsets.push_back(tail.bytes);
  tail.bytes += frame.size();
  ++next_seq_;
  return seq;
}

Status ChangeLog::Sync() {
  if (::fdatasync(tail_fd_) != 0) return ErrnoError("cannot sync", segments_.back().path, errno);
  return Status::OK();
}

uint64_t ChangeLog::first_seq() const {
  std::lock_guard lock(mu_);
  return segments_.front().first_seq;
}

uint64_t ChangeLog::last_seq() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

Status ChangeLog::Read(uint64_t from, uint64_t to,
                       const std::function<bool(uint64_t, std::string_view)>& visit) const {
  // Copy what to read under the lock; read the files outside it.
  struct Part {
    std::string path;
    uint64_t first_seq;
    std::vector<uint64_t> offsets;
    uint64_t end;
  };
  std::vector<Part> parts;
  {
    std::lock_guard lock(mu_);
    if (from < segments_.front().first_seq) {
      return OutOfRange("the change log no longer holds entry " + std::to_string(from) +
                        " (it starts at " + std::to_string(segments_.front().first_seq) + ")");
    }
    to = std::min(to, next_seq_ - 1);
    for (const Segment& s : segments_) {
      if (s.offsets.empty() || s.last_seq() < from || s.first_seq > to) continue;
      const uint64_t lo = std::max(from, s.first_seq) - s.first_seq;
      const uint64_t hi = std::min(to, s.last_seq()) - s.first_seq;
      parts.push_back(
          {s.path, s.first_seq + lo,
           std::vector<uint64_t>(s.offsets.begin() + long(lo), s.offsets.begin() + long(hi) + 1),
           hi + 1 < s.offsets.size() ? s.offsets[hi + 1] : s.bytes});
    }
  }
  std::string buffer;
  for (const Part& part : parts) {
    int fd = ::open(part.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("cannot open", part.path, errno);
    const uint64_t begin = part.offsets.front();
    buffer.resize(part.end - begin);
    size_t done = 0;
    while (done < buffer.size()) {
      ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done, off_t(begin + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        return ErrnoError("cannot read", part.path, n < 0 ? errno : EIO);
      }
      done += size_t(n);
    }
    ::close(fd);
    for (size_t i = 0; i < part.offsets.size(); ++i) {
      const char* p = buffer.data() + (part.offsets[i] - begin);
      const uint64_t size = GetLe(p, 4);
      std::string_view payload(p + kHeaderSize, size);
      if (GetLe(p + 4, 4) != FrameCrc(p + 8, payload)) {
        return DataLoss("change log entry " + std::to_string(part.first_seq + i) + " in " +
                        part.path + " fails its checksum");
      }
      if (!visit(part.first_seq + i, payload)) return Status::OK();
    }
  }
  return Status::OK();
}

Status ChangeLog::TruncateAfter(uint64_t seq) {
  if (seq >= next_seq_ - 1) return Status::OK();
  std::lock_guard lock(mu_);
  while (segments_.size() > 1 && segments_.back().first_seq > seq) {
    if (::unlink(segments_.back().path.c_str()) != 0) {
      return ErrnoError("cannot remove", segments_.back().path, errno);
    }
    segments_.pop_back();
  }
  Segment& tail = segments_.back();
  const uint64_t keep = seq + 1 - tail.first_seq;  // entries of the tail that stay
  const uint64_t bytes = keep < tail.offsets.size() ? tail.offsets[keep] : tail.bytes;
  if (::truncate(tail.path.c_str(), off_t(bytes)) != 0) {
    return ErrnoError("cannot truncate", tail.path, errno);
  }
  tail.offsets.resize(keep);
  tail.bytes = bytes;
  next_seq_ = seq + 1;
  if (tail_fd_ >= 0) ::close(tail_fd_);
  tail_fd_ = ::open(tail.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (tail_fd_ < 0) return ErrnoError("cannot open", tail.path, errno);
  return Status::OK();
}

Result<size_t> ChangeLog::ApplyRetention(uint64_t applied_by_all) {
  if (options_.max_bytes == 0 && options_.max_age_seconds == 0) return size_t{0};
  uint64_t total = 0;
  {
    std::lock_guard lock(mu_);
    for (const Segment& s : segments_) total += s.bytes;
  }
  size_t dropped = 0;
  const time_t now = ::time(nullptr);
  while (true) {
    Segment front;
    {
      std::lock_guard lock(mu_);
      if (segments_.size() < 2) break;  // the tail segment always stays
      front = segments_.front();
    }
    if (front.offsets.empty() || front.last_seq() > applied_by_all) break;
    bool old = false;
    struct stat st;
    if (options_.max_age_seconds && ::stat(front.path.c_str(), &st) == 0) {
      old = uint64_t(now - st.st_mtime) > options_.max_age_seconds;
    }
    const bool too_big = options_.max_bytes && total > options_.max_bytes;
    if (!old && !too_big) break;
    {
      std::lock_guard lock(mu_);
      segments_.erase(segments_.begin());
    }
    if (::unlink(front.path.c_str()) != 0) return ErrnoError("cannot remove", front.path, errno);
    total -= front.bytes;
    ++dropped;
  }
  return dropped;
}

}  // namespace sluice
