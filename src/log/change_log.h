// ChangeLog: the durable, append-only log of committed epochs under a directory of segment
// files. Each entry is an opaque payload (control/log_entry.h encodes a commit into one) with
// a sequence number that grows by one per entry across runs. On disk an entry is framed as
//   [u32 payload size][u32 CRC-32 of seq + payload][u64 seq][payload]   (little endian)
// in segments named <first seq, 20 digits>.log, rolled over at options.segment_bytes.
//
// Open() checks every frame. A bad frame at the end of the last segment is a torn write (the
// process died mid-append): the segment is truncated there and the log continues after the
// last whole entry. A bad frame anywhere else is corruption of acknowledged data: Open fails
// with DataLoss naming the file and offset, never skipping entries silently.
//
// Sync() makes every appended entry durable (fdatasync); callers decide how often (group
// commit). Retention drops whole segments that every consumer has applied and that are older
// or beyond the size budget.
//
// Thread-safety: one thread appends/syncs/truncates; Read() may run concurrently from other
// threads (readers see entries up to the last Append that returned).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

struct ChangeLogOptions {
  uint64_t segment_bytes = 64 << 20;
  // Retention: segments are dropped once every consumer applied them and either the log holds
  // more than max_bytes or the segment is older than max_age_seconds (0: no limit).
  uint64_t max_bytes = 0;
  uint64_t max_age_seconds = 0;
};

class ChangeLog {
 public:
  static Result<std::unique_ptr<ChangeLog>> Open(const std::string& dir,
                                                 const ChangeLogOptions& options = {});
  ~ChangeLog();

  // Appends one entry; returns its sequence number (last_seq() + 1).
  Result<uint64_t> Append(std::string_view payload);
  Status Sync();

  // Sequence numbers held: [first_seq(), last_seq()]; an empty log has last_seq() ==
  // first_seq() - 1 (first_seq() is 1 for a new log).
  uint64_t first_seq() const;
  uint64_t last_seq() const;
  // What Open() cut off a torn last segment (bytes), for the log.
  uint64_t truncated_bytes() const { return truncated_bytes_; }

  // Visits entries from `from` (>= first_seq()) up to `to` in order; stops when visit returns
  // false.
  Status Read(uint64_t from, uint64_t to,
              const std::function<bool(uint64_t seq, std::string_view payload)>& visit) const;

  // Removes entries after `seq` (a commit that was logged but whose effects are discarded).
  Status TruncateAfter(uint64_t seq);

  // Drops whole segments whose entries are all <= applied_by_all (see ChangeLogOptions).
  // Returns how many segments went.
  Result<size_t> ApplyRetention(uint64_t applied_by_all);

 private:
  struct Segment {
    uint64_t first_seq = 0;
    std::vector<uint64_t> offsets;  // of each entry's frame, in seq order
    uint64_t bytes = 0;
    std::string path;
    uint64_t last_seq() const { return first_seq + offsets.size() - 1; }
  };
  ChangeLog() = default;
  // Checks a segment's frames; a bad one ends it (`torn` says where), which Open accepts only
  // for the last segment.
  Status Scan(Segment& segment, uint64_t expected_first, uint64_t* torn_at);
  Status OpenTail();
  Status Roll(uint64_t first_seq);

  std::string dir_;
  ChangeLogOptions options_;
  mutable std::mutex mu_;  // guards segments_ against concurrent readers
  std::vector<Segment> segments_;
  int tail_fd_ = -1;
  uint64_t next_seq_ = 1;
  uint64_t truncated_bytes_ = 0;
};

}  // namespace sluice
