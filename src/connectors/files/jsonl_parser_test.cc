#include "connectors/files/jsonl_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/files/parser_test_util.h"

namespace sluice {
namespace {

constexpr char kLabel[] = "data/events/a.jsonl";

// id int not null, name string, price float, ok boolean, at timestamp (all nullable but id).
Schema EventSchema() {
  Schema schema;
  schema.fields = {{"id", FieldType::kInt, false},
                   {"name", FieldType::kString, true},
                   {"price", FieldType::kFloat, true},
                   {"ok", FieldType::kBoolean, true},
                   {"at", FieldType::kTimestamp, true}};
  return schema;
}

using testing::ParseAll;
using testing::Parsed;
using testing::Show;

JsonlParser StartedParser() {
  JsonlParser parser(EventSchema());
  parser.StartFile(kLabel);
  return parser;
}

TEST(JsonlParser, ConvertsValidLinesByColumnType) {
  JsonlParser parser = StartedParser();
  const std::string data =
      "{\"id\": 1, \"name\": \"a\", \"price\": 2.5, \"ok\": true, \"at\": "
      "\"1970-01-01T00:00:02Z\"}\n"
      "{\"at\": null, \"ok\": false, \"price\": 3, \"name\": \"日本\", \"id\": 2}\r\n";
  Parsed parsed = ParseAll(parser, data);
  EXPECT_EQ(Show(parsed.records),
            (std::vector<std::string>{"1, 'a', 2.5, true, 2000000", "2, '日本', 3, false, NULL"}));
  ASSERT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(parsed.records[1][2], Value(3.0));  // an integer literal in a float column
  EXPECT_EQ(parsed.progress.bytes_consumed, data.size());
  EXPECT_EQ(parsed.progress.lines_consumed, 2);
  EXPECT_FALSE(parsed.progress.bad_row);
}

TEST(JsonlParser, MissingKeysAreNullAndUnknownKeysIgnored) {
  JsonlParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "{\"id\": 7, \"color\": \"red\", \"nested\": {\"x\": [1]}}\n");
  EXPECT_EQ(Show(parsed.records), (std::vector<std::string>{"7, NULL, NULL, NULL, NULL"}));
}

TEST(JsonlParser, BlankLinesAreSkippedButCounted) {
  JsonlParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "\n  \t\r\n{\"id\": 1}\n\n{\"id\": \"x\"}\n");
  EXPECT_EQ(Show(parsed.records), (std::vector<std::string>{"1, NULL, NULL, NULL, NULL"}));
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_EQ(*parsed.progress.bad_row, "data/events/a.jsonl:5: column 'id': invalid int 'x'");
}

TEST(JsonlParser, InvalidJsonIsABadRowAndTheNextLineStillParses) {
  JsonlParser parser = StartedParser();
  const std::string data = "{\"id\": 1}\n{\"id\": 2,\n{\"id\": 3}\n";
  Parsed first = ParseAll(parser, data);
  EXPECT_EQ(first.records.size(), 1u);
  ASSERT_TRUE(first.progress.bad_row);
  EXPECT_TRUE(first.progress.bad_row->starts_with("data/events/a.jsonl:2: invalid JSON: "))
      << *first.progress.bad_row;
  Parsed second = ParseAll(parser, std::string_view(data).substr(first.progress.bytes_consumed), 3);
  EXPECT_EQ(Show(second.records), (std::vector<std::string>{"3, NULL, NULL, NULL, NULL"}));
}

// A line is parsed in place when enough bytes follow it; the bytes of the next line must not
// complete a truncated document.
TEST(JsonlParser, ATruncatedLineIsNotCompletedByTheNextLine) {
  JsonlParser parser = StartedParser();
  std::string data = "{\"id\":\n1}\n";
  for (int i = 0; i < 10; ++i) data += "{\"id\": 10, \"name\": \"padding padding padding\"}\n";
  Parsed parsed = ParseAll(parser, data);
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_TRUE(parsed.progress.bad_row->starts_with("data/events/a.jsonl:1: invalid JSON"))
      << *parsed.progress.bad_row;
}

TEST(JsonlParser, NonObjectsAreBadRows) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1, 2]\n", "data/events/a.jsonl:1: expected a JSON object, got an array"},
      {"42\n", "data/events/a.jsonl:1: expected a JSON object, got a number"},
      {"\"text\"\n", "data/events/a.jsonl:1: expected a JSON object, got a string"},
      {"null\n", "data/events/a.jsonl:1: expected a JSON object, got null"},
  };
  for (const auto& [line, message] : cases) {
    JsonlParser parser = StartedParser();
    Parsed parsed = ParseAll(parser, line);
    EXPECT_TRUE(parsed.records.empty()) << line;
    ASSERT_TRUE(parsed.progress.bad_row) << line;
    EXPECT_EQ(*parsed.progress.bad_row, message);
    EXPECT_EQ(parsed.progress.bytes_consumed, line.size());
  }
}

TEST(JsonlParser, ValuesOfTheWrongTypeNameTheColumn) {
  JsonlParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "{\"id\": 1, \"ok\": \"maybe\"}\n");
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_TRUE(parsed.progress.bad_row->starts_with(
      "data/events/a.jsonl:1: column 'ok': invalid boolean 'maybe'"))
      << *parsed.progress.bad_row;

  parsed = ParseAll(parser, "{\"id\": 1.5}\n");
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_EQ(*parsed.progress.bad_row,
            "data/events/a.jsonl:1: column 'id': expected an integer for a int field, got 1.5");
}

TEST(JsonlParser, MissingOrNullNonNullableColumnIsABadRow) {
  for (std::string line : {"{\"name\": \"a\"}\n", "{\"id\": null}\n"}) {
    JsonlParser parser = StartedParser();
    Parsed parsed = ParseAll(parser, line);
    ASSERT_TRUE(parsed.progress.bad_row) << line;
    EXPECT_EQ(*parsed.progress.bad_row,
              "data/events/a.jsonl:1: column 'id': NULL in a non-nullable column");
  }
}

TEST(JsonlParser, PartialLastLineIsNotConsumed) {
  JsonlParser parser = StartedParser();
  const std::string complete = "{\"id\": 1}\n";
  Parsed parsed = ParseAll(parser, complete + "{\"id\": 2}");
  EXPECT_EQ(parsed.records.size(), 1u);
  EXPECT_EQ(parsed.progress.bytes_consumed, complete.size());
  EXPECT_EQ(parsed.progress.lines_consumed, 1);
}

TEST(JsonlParser, MaxRecordsStopsAtALineBoundary) {
  JsonlParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "{\"id\": 1}\n\n{\"id\": 2}\n{\"id\": 3}\n", 1, 2);
  EXPECT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(parsed.progress.bytes_consumed, std::string("{\"id\": 1}\n\n{\"id\": 2}\n").size());
  EXPECT_EQ(parsed.progress.lines_consumed, 3);
}

TEST(JsonlParser, ByteOrderMarkOnlyAtTheStartOfTheFile) {
  JsonlParser parser = StartedParser();
  EXPECT_EQ(ParseAll(parser, "\xEF\xBB\xBF{\"id\": 1}\n").records.size(), 1u);
  Parsed later = ParseAll(parser, "\xEF\xBB\xBF{\"id\": 1}\n", 2);
  EXPECT_TRUE(later.progress.bad_row);
}

TEST(JsonlParser, ResumingAtEveryByteBoundaryGivesTheSameRecords) {
  const std::string data =
      "{\"id\": 1, \"name\": \"a\\nb\"}\r\n\n{\"id\": 2, \"price\": 1e3}\n{\"id\": 3}\n";
  JsonlParser whole_parser = StartedParser();
  const std::vector<std::string> expected = Show(ParseAll(whole_parser, data).records);
  ASSERT_EQ(expected.size(), 3u);
  for (size_t split = 0; split <= data.size(); ++split) {
    JsonlParser parser = StartedParser();
    std::vector<Record> records;
    Result<ParseProgress> first = parser.Parse(data.substr(0, split), 1, 1000, &records);
    ASSERT_TRUE(first.ok());
    Result<ParseProgress> second =
        parser.Parse(std::string_view(data).substr(first->bytes_consumed),
                     1 + first->lines_consumed, 1000, &records);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(Show(records), expected) << "split at " << split;
    EXPECT_EQ(first->bytes_consumed + second->bytes_consumed, data.size());
  }
}

}  // namespace
}  // namespace sluice
