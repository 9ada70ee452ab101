// The change log read back from disk (log/change_log.h): whatever a directory of segment
// files holds after a crash, a torn write, a disk error or a stray file.
//
// Input (binary): a flags byte, then up to three segments.
//   flags bit 0: also put a stray file with a fuzzed 24-character name ending ".log"
//         bits 1-2: segments - 1;  bit 3: segments are raw bytes (else built from entries)
//   per segment: a byte choosing its first sequence number (contiguous with the previous
//   segment, or one off), then raw: [u16 size][bytes]; built: [u8 entries] each
//   [u8 size][payload], framed with correct CRCs, then [u8 damage][u16 where][u8 value]
//   (0 none, 1 flip a byte, 2 truncate, 3 append garbage bytes).
// Contracts: Open succeeds or fails with DataLoss/IoError, never crashes or throws; an opened
// log reads exactly last_seq() - first_seq() + 1 entries with consecutive numbers, holds every
// undamaged entry that precedes the first damage, appends the next number, and reopens to the
// same entries.
#include <zlib.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "fuzz_support.h"
#include "log/change_log.h"

namespace sluice::fuzz::change_log {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t U8() {
    if (in_.empty()) return 0;
    uint8_t b = uint8_t(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  uint16_t U16() { return uint16_t(U8() | U8() << 8); }
  std::string_view Bytes(size_t n) {
    n = std::min(n, in_.size());
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }

 private:
  std::string_view in_;
};

void PutLe(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(char(uint8_t(v >> (8 * i))));
}

std::string Frame(uint64_t seq, std::string_view payload) {
  std::string seq_bytes;
  PutLe(seq, 8, &seq_bytes);
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(seq_bytes.data()), 8);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), uInt(payload.size()));
  std::string out;
  PutLe(payload.size(), 4, &out);
  PutLe(crc, 4, &out);
  out += seq_bytes;
  out.append(payload);
  return out;
}

std::string SegmentName(uint64_t first_seq) {
  char name[32];
  snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(first_seq));
  return name;
}

std::map<uint64_t, std::string> ReadAll(const ChangeLog& log, const std::string& ctx) {
  std::map<uint64_t, std::string> out;
  uint64_t expected = log.first_seq();
  Status s = log.Read(log.first_seq(), UINT64_MAX, [&](uint64_t seq, std::string_view payload) {
    FUZZ_CHECK(seq == expected, "entry " + std::to_string(seq) + " after " +
                                    std::to_string(expected - 1) + ": " + ctx);
    ++expected;
    out.emplace(seq, std::string(payload));
    return true;
  });
  FUZZ_CHECK(s.ok(), "reading an opened log: " + Describe(s) + " " + ctx);
  FUZZ_CHECK(out.size() == log.last_seq() + 1 - log.first_seq(),
             std::to_string(out.size()) + " entries in [" + std::to_string(log.first_seq()) + ", " +
                 std::to_string(log.last_seq()) + "]: " + ctx);
  return out;
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  static const std::string root = ScratchDir("change_log");
  static uint64_t run = 0;
  const std::string dir = root + "/" + std::to_string(run++);
  std::filesystem::create_directories(dir);
  const std::string ctx =
      "input " + Printable(std::string_view(reinterpret_cast<const char*>(data), size));

  Reader in(std::string_view(reinterpret_cast<const char*>(data), size));
  const uint8_t flags = in.U8();
  const int segments = 1 + (flags >> 1) % 4 % 3;
  const bool raw = flags & 8;
  // The entries written and still whole (before any damage), by sequence number.
  std::map<uint64_t, std::string> intact;
  bool damaged = false;
  uint64_t next = 0;
  for (int s = 0; s < segments; ++s) {
    const uint8_t b = in.U8();
    const uint64_t first = s == 0 ? 1 + b % 3 : next + (b % 5 == 4 ? 1 : 0);
    if (s > 0 && first != next) damaged = true;
    std::string bytes;
    if (raw) {
      bytes = std::string(in.Bytes(in.U16() % 4096));
      damaged = true;
    } else {
      const uint8_t entries = in.U8() % 16;
      std::vector<std::string> payloads;
      for (uint8_t e = 0; e < entries; ++e) {
        payloads.emplace_back(in.Bytes(in.U8()));
        bytes += Frame(first + e, payloads.back());
        if (!damaged) intact[first + e] = payloads.back();
      }
      next = first + entries;
      const uint8_t damage = in.U8() % 4;
      const uint16_t where = in.U16();
      const uint8_t value = in.U8();
      if (damage != 0 && !bytes.empty()) {
        damaged = true;
        // Entries from the damaged frame on are not expected any more.
        const size_t at = where % bytes.size();
        size_t offset = 0;
        for (uint8_t e = 0; e < entries; ++e) {
          const size_t frame = 16 + payloads[e].size();
          if (offset + frame > at) {
            for (uint64_t gone = first + e; gone < first + entries; ++gone) intact.erase(gone);
            break;
          }
          offset += frame;
        }
        if (damage == 1) bytes[at] = char(bytes[at] ^ (value | 1));
        if (damage == 2) bytes.resize(at);
        if (damage == 3) bytes.append(size_t(value % 40 + 1), char(value));
      }
    }
    std::ofstream(dir + "/" + SegmentName(first), std::ios::binary) << bytes;
  }
  if (flags & 1) {
    std::string name(in.Bytes(20));
    for (char& c : name) {
      if (c == '/' || c == '\0') c = '_';
    }
    const std::string path = dir + "/" + name + ".log";
    if (name.size() == 20 && !std::filesystem::exists(path)) {
      std::ofstream(path, std::ios::binary) << "x";  // (never over a segment written above)
    }
    damaged = true;
  }

  auto log = ChangeLog::Open(dir);
  if (!log.ok()) {
    const StatusCode code = log.status().code();
    FUZZ_CHECK(code == StatusCode::kDataLoss || code == StatusCode::kIoError,
               Describe(log.status()) + " " + ctx);
    FUZZ_CHECK(damaged, "an undamaged log does not open: " + Describe(log.status()) + " " + ctx);
  } else {
    auto entries = ReadAll(**log, ctx);
    for (const auto& [seq, payload] : intact) {
      if (seq < (*log)->first_seq()) continue;
      auto it = entries.find(seq);
      FUZZ_CHECK(it != entries.end() && it->second == payload,
                 "entry " + std::to_string(seq) + " before any damage is lost: " + ctx);
    }
    const uint64_t last = (*log)->last_seq();
    auto appended = (*log)->Append("appended");
    FUZZ_CHECK(appended.ok() && *appended == last + 1, ctx);
    entries[last + 1] = "appended";
    log->reset();
    auto reopened = ChangeLog::Open(dir);
    FUZZ_CHECK(reopened.ok(), "reopening: " + Describe(reopened.status()) + " " + ctx);
    FUZZ_CHECK(ReadAll(**reopened, ctx) == entries, "reopened log differs: " + ctx);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace sluice::fuzz::change_log
