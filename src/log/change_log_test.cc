#include "log/change_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/temp_dir.h"

namespace sluice {
namespace {

std::string Payload(uint64_t seq) {
  return "entry " + std::to_string(seq) + std::string(seq % 97, char('a' + seq % 26));
}

std::vector<std::pair<uint64_t, std::string>> ReadAll(const ChangeLog& log, uint64_t from = 0) {
  std::vector<std::pair<uint64_t, std::string>> out;
  Status s = log.Read(from ? from : log.first_seq(), UINT64_MAX, [&](uint64_t seq, auto p) {
    out.emplace_back(seq, std::string(p));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ExpectEntries(const ChangeLog& log, uint64_t first, uint64_t last) {
  auto entries = ReadAll(log);
  ASSERT_EQ(entries.size(), last - first + 1);
  for (uint64_t seq = first; seq <= last; ++seq) {
    EXPECT_EQ(entries[seq - first], std::make_pair(seq, Payload(seq)));
  }
  EXPECT_EQ(log.last_seq(), last);
}

std::vector<std::filesystem::path> Segments(const TempDir& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<ChangeLog> Filled(const TempDir& dir, uint64_t entries,
                                  ChangeLogOptions options = {}) {
  auto log = ChangeLog::Open(dir.str(), options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  for (uint64_t seq = 1; seq <= entries; ++seq) {
    auto appended = (*log)->Append(Payload(seq));
    EXPECT_TRUE(appended.ok() && *appended == seq);
  }
  EXPECT_TRUE((*log)->Sync().ok());
  return std::move(*log);
}

// A file that only looks like a segment (found by tests/fuzz/change_log_fuzz.cc: std::stoull
// threw on its name and the exception ended the process) is not one, and is left alone.
TEST(ChangeLog, IgnoresFilesNamedLikeSegments) {
  TempDir dir("sluice_log");
  Filled(dir, 3);
  for (const char* name : {"abcdefghijklmnopqrst.log", "-0000000000000000001.log",
                           "99999999999999999999.log", "+0000000000000000002.log"}) {
    std::ofstream(dir.path() / name) << "not a segment";
  }
  auto log = ChangeLog::Open(dir.str());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ExpectEntries(**log, 1, 3);
  ASSERT_TRUE((*log)->Append(Payload(4)).ok());
  ExpectEntries(**log, 1, 4);
}

TEST(ChangeLog, AppendsAcrossSegmentsAndReopens) {
  TempDir dir("sluice_log");
  ChangeLogOptions options;
  options.segment_bytes = 1000;
  Filled(dir, 300, options);
  EXPECT_GT(Segments(dir).size(), 10u);
  auto log = ChangeLog::Open(dir.str(), options);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->truncated_bytes(), 0u);
  ExpectEntries(**log, 1, 300);
  // Reads from the middle, bounded, and stopping early.
  std::vector<uint64_t> seen;
  ASSERT_TRUE((*log)
                  ->Read(120, 125,
                         [&](uint64_t seq, auto) {
                           seen.push_back(seq);
                           return seq < 123;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{120, 121, 122, 123}));
  ASSERT_TRUE((*log)->Append(Payload(301)).ok());
  ExpectEntries(**log, 1, 301);
}

// The process died in the middle of writing the last entry: every cut of its frame (and stray
// bytes after a whole entry) is detected at open, truncated, and appending continues.
TEST(ChangeLog, TornTailIsTruncatedAtEveryCut) {
  TempDir dir("sluice_log");
  { Filled(dir, 20); }
  const auto path = Segments(dir).back();
  std::string whole;
  {
    std::ifstream in(path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t last_frame = 16 + Payload(20).size();
  for (size_t cut = 1; cut < last_frame; cut += 3) {
    std::filesystem::resize_file(path, whole.size() - cut);
    auto log = ChangeLog::Open(dir.str());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->truncated_bytes(), last_frame - cut) << cut;
    ExpectEntries(**log, 1, 19);
    ASSERT_EQ(*(*log)->Append(Payload(20)), 20u);
    ASSERT_TRUE((*log)->Sync().ok());
    ExpectEntries(**log, 1, 20);
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << "garbage!";
  }
  auto log = ChangeLog::Open(dir.str());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->truncated_bytes(), 8u);
  ExpectEntries(**log, 1, 20);
}

void FlipByte(const std::filesystem::path& path, size_t at) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(long(at));
  char c;
  f.get(c);
  f.seekp(long(at));
  f.put(char(c ^ 0x20));
}

TEST(ChangeLog, CorruptionInTheLastSegmentCutsThereAndIsReported) {
  TempDir dir("sluice_log");
  { Filled(dir, 50); }
  // Entry 31's payload: header 16 + payload sizes of entries 1..30 before it.
  size_t offset = 0;
  for (uint64_t seq = 1; seq <= 30; ++seq) offset += 16 + Payload(seq).size();
  FlipByte(Segments(dir).back(), offset + 16 + 3);
  auto log = ChangeLog::Open(dir.str());
  ASSERT_TRUE(log.ok());
  EXPECT_GT((*log)->truncated_bytes(), 0u);
  ExpectEntries(**log, 1, 30);
}

TEST(ChangeLog, CorruptionBeforeTheLastSegmentIsAnError) {
  TempDir dir("sluice_log");
  ChangeLogOptions options;
  options.segment_bytes = 1000;
  { Filled(dir, 100, options); }
  const auto second = Segments(dir)[1];
  FlipByte(second, 20);
  auto log = ChangeLog::Open(dir.str(), options);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find(second.filename().string()), std::string::npos)
      << log.status().message();
  // A missing segment in the middle is an error too, not a silent gap.
  FlipByte(second, 20);  // repaired
  std::filesystem::remove(Segments(dir)[2]);
  log = ChangeLog::Open(dir.str(), options);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("missing"), std::string::npos) << log.status().message();
}

TEST(ChangeLog, TruncateAfterDropsLaterEntriesAcrossSegments) {
  TempDir dir("sluice_log");
  ChangeLogOptions options;
  options.segment_bytes = 1000;
  auto log = Filled(dir, 100, options);
  ASSERT_TRUE(log->TruncateAfter(42).ok());
  ExpectEntries(*log, 1, 42);
  ASSERT_EQ(*log->Append(Payload(43)), 43u);
  log.reset();
  auto reopened = ChangeLog::Open(dir.str(), options);
  ASSERT_TRUE(reopened.ok());
  ExpectEntries(**reopened, 1, 43);
}

TEST(ChangeLog, RetentionDropsOnlySegmentsEveryConsumerApplied) {
  TempDir dir("sluice_log");
  ChangeLogOptions options;
  options.segment_bytes = 1000;
  options.max_bytes = 3000;
  auto log = Filled(dir, 200, options);
  const size_t before = Segments(dir).size();
  // Nothing applied yet: nothing goes, however big.
  EXPECT_EQ(*log->ApplyRetention(0), 0u);
  EXPECT_EQ(Segments(dir).size(), before);
  auto dropped = log->ApplyRetention(150);
  ASSERT_TRUE(dropped.ok());
  EXPECT_GT(*dropped, 0u);
  EXPECT_LE(log->first_seq(), 151u);
  EXPECT_GT(log->first_seq(), 1u);
  ExpectEntries(*log, log->first_seq(), 200);
  // Reading what retention removed is an explicit error.
  Status s = log->Read(1, 5, [](uint64_t, auto) { return true; });
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  log.reset();
  auto reopened = ChangeLog::Open(dir.str(), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->last_seq(), 200u);
}

}  // namespace
}  // namespace sluice
