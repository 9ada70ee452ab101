// Helpers shared by the record parser tests (csv_parser_test.cc, jsonl_parser_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "connectors/files/record_parser.h"

namespace sluice::testing {

// "1, 'a'" per record: the value kinds (NULL, int, 'string') stay visible in failures.
inline std::vector<std::string> Show(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& record : records) {
    std::string line;
    for (const Value& value : record) line += (line.empty() ? "" : ", ") + value.DebugString();
    out.push_back(line);
  }
  return out;
}

struct Parsed {
  std::vector<Record> records;
  ParseProgress progress;
};

// Parses `data` expecting success (a failure is reported and an empty result returned).
inline Parsed ParseAll(RecordParser& parser, std::string_view data, int64_t first_line = 1,
                       size_t max_records = 1000) {
  Parsed parsed;
  Result<ParseProgress> progress = parser.Parse(data, first_line, max_records, &parsed.records);
  EXPECT_TRUE(progress.ok()) << progress.status().ToString();
  if (progress.ok()) parsed.progress = *progress;
  return parsed;
}

}  // namespace sluice::testing
