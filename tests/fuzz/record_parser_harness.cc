#include "record_parser_harness.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/row_json.h"

namespace sluice::fuzz {
namespace {

constexpr size_t kUnbounded = 1 << 30;

struct Checkpoint {
  size_t end;
  int64_t line;
  size_t records;  // produced before `end`
};

struct Run {
  std::vector<Record> records;
  std::vector<std::string> bad_rows;
  std::optional<std::string> error;
  size_t end = 0;  // bytes consumed in all
  int64_t line = 1;
  // After each call: where the next record starts, for resuming there.
  std::vector<Checkpoint> checkpoints;
};

bool SameRecords(const std::vector<Record>& a, const std::vector<Record>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), IdenticalRecords);
}

std::string DescribeRecords(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    out += "[";
    for (const Value& v : r) out += v.DebugString() + ",";
    out += "]";
    if (out.size() > 400) break;
  }
  return out;
}

// One Parse call with its per-call checks; returns false when parsing must stop (an error).
bool Step(RecordParser& parser, std::string_view data, size_t begin, size_t available,
          size_t max_records, Run& run, const std::string& ctx) {
  std::string_view offered = data.substr(begin, available - begin);
  const size_t before = run.records.size();
  auto progress = parser.Parse(offered, run.line, max_records, &run.records);
  if (!progress.ok()) {
    FUZZ_CHECK(progress.status().code() == StatusCode::kInvalidArgument,
               Describe(progress.status()) + " " + ctx);
    run.error = progress.status().message();
    return false;
  }
  FUZZ_CHECK(progress->bytes_consumed <= offered.size(), ctx);
  const auto newlines =
      std::count(offered.begin(), offered.begin() + long(progress->bytes_consumed), '\n');
  FUZZ_CHECK(progress->lines_consumed == newlines,
             "lines_consumed " + std::to_string(progress->lines_consumed) + " for " +
                 std::to_string(newlines) + " line ends: " + ctx);
  FUZZ_CHECK(run.records.size() - before <= max_records || parser.awaiting_header(), ctx);
  if (progress->bad_row) {
    FUZZ_CHECK(progress->bad_row->starts_with("f:"), *progress->bad_row);
    run.bad_rows.push_back(*progress->bad_row);
  }
  run.end = begin + progress->bytes_consumed;
  run.line += progress->lines_consumed;
  return true;
}

// Calls Parse, continuing after bad rows, until it makes no progress over the bytes available:
// all of them, or (with `seed`) a growing prefix, as a file being appended to.
void Drive(RecordParser& parser, std::string_view data, size_t max_records, uint32_t* seed,
           Run& run, const std::string& ctx) {
  size_t available = seed ? 0 : data.size();
  for (int calls = 0; calls < 1'000'000; ++calls) {
    const size_t end = run.end, records = run.records.size(), bad = run.bad_rows.size();
    if (!Step(parser, data, run.end, available, max_records, run, ctx)) return;
    run.checkpoints.push_back({run.end, run.line, run.records.size()});
    if (run.end != end || run.records.size() != records || run.bad_rows.size() != bad) continue;
    if (available == data.size()) return;
    *seed = *seed * 1103515245 + 12345;
    available = std::min(data.size(), available + 1 + (*seed >> 16) % 48);
  }
  Fail(__FILE__, __LINE__, "the parser never stops: " + ctx);
}

void CheckRecord(const Schema& schema, const Record& r, const std::string& ctx) {
  FUZZ_CHECK(r.size() == schema.fields.size(), ctx);
  for (size_t c = 0; c < r.size(); ++c) {
    FUZZ_CHECK(ValueFits(schema.fields[c].type, r[c]),
               "column " + schema.fields[c].name + ": " + ctx);
    FUZZ_CHECK(schema.fields[c].nullable || !r[c].is_null(), ctx);
  }
  std::string row;
  EncodeRow(schema, r, &row);
  auto decoded = DecodeRow(schema, row);
  FUZZ_CHECK(decoded.ok() && IdenticalRecords(*decoded, r),
             "row codec round trip: " + DescribeRecords({r}) + " " + ctx);
  std::string json;
  Status s = AppendRowJson(schema, row, JsonFieldPrefixes(schema), &json);
  FUZZ_CHECK(s.ok() && IsValidJson(json), "row JSON " + Printable(json) + " " + ctx);
  std::string key;
  EncodeKey(schema, r, {0}, &key);
  std::vector<FieldType> types;
  for (const Field& f : schema.fields) types.push_back(f.type);
  std::string all_key;
  std::vector<size_t> all(schema.fields.size());
  for (size_t c = 0; c < all.size(); ++c) all[c] = c;
  EncodeKey(schema, r, all, &all_key);
  auto key_back = DecodeKey(types, all_key);
  FUZZ_CHECK(key_back.ok() && *key_back == r,
             "key codec round trip: " + DescribeRecords({r}) + " " + ctx);
}

}  // namespace

Schema RecordParserSchema() {
  using T = FieldType;
  return Schema{{{"id", T::kInt, false},
                 {"name", T::kString, true},
                 {"price", T::kDecimal, true},
                 {"ts", T::kTimestamp, true},
                 {"ok", T::kBoolean, true},
                 {"data", T::kBinary, true},
                 {"f", T::kFloat, true},
                 {"d", T::kDate, true},
                 {"dur", T::kDuration, true},
                 {"j", T::kJson, true},
                 {"u", T::kUInt, true},
                 {"pt", T::kPoint, true},
                 {"txt", T::kText, true}},
                {0}};
}

void FuzzRecordParser(const std::function<std::unique_ptr<RecordParser>()>& make,
                      const uint8_t* bytes, size_t size) {
  InitOnce();
  if (size < 2) return;
  uint32_t seed = bytes[0];
  const uint8_t options = bytes[1];
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 2, size - 2);
  const std::string ctx = "input " + Printable(data);
  static const Schema schema = RecordParserSchema();

  // The whole file in one piece, every record at once (continuing after bad rows, as
  // on_error: skip does).
  Run whole;
  {
    auto parser = make();
    parser->StartFile("f");
    Drive(*parser, data, kUnbounded, nullptr, whole, ctx);
  }
  // The file arriving in pieces; each call may produce only a few records.
  Run pieces;
  {
    auto parser = make();
    parser->StartFile("f");
    Drive(*parser, data, options % 4 == 0 ? kUnbounded : options % 4, &seed, pieces, ctx);
  }
  FUZZ_CHECK(whole.error == pieces.error, "errors differ: " + whole.error.value_or("none") + " / " +
                                              pieces.error.value_or("none") + " " + ctx);
  FUZZ_CHECK(whole.bad_rows == pieces.bad_rows,
             "bad rows differ (" + std::to_string(whole.bad_rows.size()) + " / " +
                 std::to_string(pieces.bad_rows.size()) + "): " + ctx);
  // (After an error the file is unreadable: where each run stood then does not matter.)
  FUZZ_CHECK(whole.error || (whole.end == pieces.end && whole.line == pieces.line),
             "end " + std::to_string(whole.end) + "/" + std::to_string(pieces.end) + " " + ctx);
  FUZZ_CHECK(SameRecords(whole.records, pieces.records),
             "records differ: " + DescribeRecords(whole.records) + " / " +
                 DescribeRecords(pieces.records) + " " + ctx);
  for (const Record& r : whole.records) CheckRecord(schema, r, ctx);

  // A reader resuming at one of the boundaries the piecewise reader stopped at, after reading
  // the file's header again (max_records 0), as DirectoryTailer does after a restart.
  if (whole.error || pieces.checkpoints.empty()) return;
  const Checkpoint resume = pieces.checkpoints[options / 4 % pieces.checkpoints.size()];
  auto parser = make();
  parser->StartFile("f");
  std::vector<Record> header_records;
  size_t header_end = 0;
  if (parser->awaiting_header()) {
    auto p = parser->Parse(data, 1, 0, &header_records);
    if (!p.ok()) return;  // refused: the first runs saw that too
    header_end = p->bytes_consumed;
  }
  FUZZ_CHECK(header_records.empty(), "records produced while reading the header: " + ctx);
  if (parser->awaiting_header() || resume.end < header_end) return;
  Run resumed;
  resumed.end = resume.end;
  resumed.line = resume.line;
  Drive(*parser, data, kUnbounded, nullptr, resumed, ctx);
  FUZZ_CHECK(resume.records <= whole.records.size(), ctx);
  const std::vector<Record> expected(whole.records.begin() + long(resume.records),
                                     whole.records.end());
  FUZZ_CHECK(SameRecords(resumed.records, expected),
             "resuming at byte " + std::to_string(resume.end) + " gave " +
                 DescribeRecords(resumed.records) + ", expected " + DescribeRecords(expected) +
                 " " + ctx);
}

}  // namespace sluice::fuzz
