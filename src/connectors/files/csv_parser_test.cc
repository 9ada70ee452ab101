#include "connectors/files/csv_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/files/parser_test_util.h"

namespace sluice {
namespace {

constexpr char kLabel[] = "data/products/a.csv";

Schema MakeSchema(std::vector<Field> fields) {
  Schema schema;
  schema.fields = std::move(fields);
  return schema;
}

// id int not null, name string nullable.
Schema ProductSchema() {
  return MakeSchema({{"id", FieldType::kInt, false}, {"name", FieldType::kString, true}});
}

using testing::ParseAll;
using testing::Parsed;
using testing::Show;

CsvParser StartedParser(Schema schema = ProductSchema()) {
  CsvParser parser(std::move(schema));
  parser.StartFile(kLabel);
  return parser;
}

TEST(CsvParser, QuotedFieldsDoubledQuotesEmbeddedNewlinesAndCrlf) {
  CsvParser parser = StartedParser();
  const std::string data =
      "id,name\r\n"
      "1,\"a, b\"\r\n"
      "2,\"say \"\"hi\"\"\"\r\n"
      "3,\"line1\nline2\r\nline3\"\r\n"
      "4,plain\r\n"
      "5,\"\"\"\"\n";  // LF after CRLF lines: each record may end either way
  Parsed parsed = ParseAll(parser, data);
  EXPECT_EQ(Show(parsed.records),
            (std::vector<std::string>{"1, 'a, b'", "2, 'say \"hi\"'", "3, 'line1\nline2\r\nline3'",
                                      "4, 'plain'", "5, '\"'"}));
  EXPECT_FALSE(parsed.progress.bad_row);
  EXPECT_EQ(parsed.progress.bytes_consumed, data.size());
  EXPECT_EQ(parsed.progress.lines_consumed, 8);  // 6 records, two of them with 2 embedded ends
}

TEST(CsvParser, LineNumbersCountNewlinesInsideQuotedFields) {
  CsvParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "id,name\n1,\"two\nlines\"\nx,bad\n");
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_EQ(*parsed.progress.bad_row, "data/products/a.csv:4: column 'id': invalid int 'x'");
}

TEST(CsvParser, UnquotedEmptyIsNullQuotedEmptyIsEmptyString) {
  CsvParser parser = StartedParser(MakeSchema({{"id", FieldType::kInt, false},
                                               {"name", FieldType::kString, true},
                                               {"qty", FieldType::kInt, true}}));
  Parsed parsed = ParseAll(parser, "id,name,qty\n1,,\n2,\"\",7\n3,\"\",\r\n");
  EXPECT_EQ(Show(parsed.records),
            (std::vector<std::string>{"1, NULL, NULL", "2, '', 7", "3, '', NULL"}));
}

TEST(CsvParser, QuotedEmptyIsNotNullForTypedColumns) {
  CsvParser parser =
      StartedParser(MakeSchema({{"id", FieldType::kInt, false}, {"qty", FieldType::kInt, true}}));
  Parsed parsed = ParseAll(parser, "id,qty\n1,\"\"\n");
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_EQ(*parsed.progress.bad_row, "data/products/a.csv:2: column 'qty': invalid int ''");
}

TEST(CsvParser, IncompleteTrailingRecordsAreNotConsumed) {
  const std::string complete = "id,name\n1,a\n";
  for (std::string tail : {"2,b", "2,b\r", "2,\"open\nquote", "2,\"closed?\"", "2,"}) {
    CsvParser parser = StartedParser();
    Parsed parsed = ParseAll(parser, complete + tail);
    EXPECT_EQ(Show(parsed.records), (std::vector<std::string>{"1, 'a'"})) << tail;
    EXPECT_EQ(parsed.progress.bytes_consumed, complete.size()) << tail;
    EXPECT_EQ(parsed.progress.lines_consumed, 2) << tail;
    EXPECT_FALSE(parsed.progress.bad_row) << tail;
  }
}

TEST(CsvParser, IncompleteHeaderConsumesNothing) {
  CsvParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "id,na");
  EXPECT_EQ(parsed.progress.bytes_consumed, 0u);
  EXPECT_TRUE(parser.awaiting_header());
}

// Feeding the bytes in every possible split, as a tailer reading a growing file would, gives
// the same records as parsing them at once.
TEST(CsvParser, ResumingAtEveryByteBoundaryGivesTheSameRecords) {
  const std::string data =
      "\xEF\xBB\xBFname,id\r\n"
      "\"a,\"\"x\"\"\",1\r\n"
      ",2\n"
      "\"multi\nline\",3\n"
      "\n"
      "\"\",4\n";
  CsvParser whole_parser = StartedParser();
  const std::vector<std::string> expected = Show(ParseAll(whole_parser, data).records);
  ASSERT_EQ(expected,
            (std::vector<std::string>{"1, 'a,\"x\"'", "2, NULL", "3, 'multi\nline'", "4, ''"}));
  for (size_t split = 0; split <= data.size(); ++split) {
    CsvParser parser = StartedParser();
    std::vector<Record> records;
    Result<ParseProgress> first = parser.Parse(data.substr(0, split), 1, 1000, &records);
    ASSERT_TRUE(first.ok()) << split;
    const size_t offset = first->bytes_consumed;
    Result<ParseProgress> second = parser.Parse(std::string_view(data).substr(offset),
                                                1 + first->lines_consumed, 1000, &records);
    ASSERT_TRUE(second.ok()) << split;
    EXPECT_EQ(Show(records), expected) << "split at " << split;
    EXPECT_EQ(offset + second->bytes_consumed, data.size()) << split;
    EXPECT_EQ(first->lines_consumed + second->lines_consumed, 7) << split;
  }
}

TEST(CsvParser, UnicodeHeaderAndValuesAndByteOrderMark) {
  CsvParser parser = StartedParser(
      MakeSchema({{"naïve", FieldType::kString, true}, {"名前", FieldType::kText, true}}));
  Parsed parsed = ParseAll(parser, "\xEF\xBB\xBF名前,naïve\n日本語,café\n\"😀,ü\",x\n");
  EXPECT_EQ(Show(parsed.records), (std::vector<std::string>{"'café', '日本語'", "'x', '😀,ü'"}));
}

TEST(CsvParser, WrongFieldCountsAreBadRowsAndParsingResumesAfterThem) {
  CsvParser parser = StartedParser();
  const std::string data = "id,name\n1\n2,b,c\n3,c\n";
  Parsed first = ParseAll(parser, data);
  EXPECT_TRUE(first.records.empty());
  ASSERT_TRUE(first.progress.bad_row);
  EXPECT_EQ(*first.progress.bad_row,
            "data/products/a.csv:2: expected 2 fields as in the header, got 1");
  EXPECT_EQ(first.progress.bytes_consumed, std::string("id,name\n1\n").size());

  std::string_view rest = std::string_view(data).substr(first.progress.bytes_consumed);
  Parsed second = ParseAll(parser, rest, 3);
  ASSERT_TRUE(second.progress.bad_row);
  EXPECT_EQ(*second.progress.bad_row,
            "data/products/a.csv:3: expected 2 fields as in the header, got 3");

  Parsed third = ParseAll(parser, rest.substr(second.progress.bytes_consumed), 4);
  EXPECT_EQ(Show(third.records), (std::vector<std::string>{"3, 'c'"}));
  EXPECT_FALSE(third.progress.bad_row);
}

TEST(CsvParser, BadValueStopsAfterTheRowsBeforeItWithFileAndLine) {
  CsvParser parser = StartedParser();
  const std::string before = "id,name\n1,a\n\n";
  const std::string bad = "x,b\n";
  Parsed parsed = ParseAll(parser, before + bad + "3,c\n");
  EXPECT_EQ(Show(parsed.records), (std::vector<std::string>{"1, 'a'"}));
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_EQ(*parsed.progress.bad_row, "data/products/a.csv:4: column 'id': invalid int 'x'");
  EXPECT_EQ(parsed.progress.bytes_consumed, before.size() + bad.size());
  EXPECT_EQ(parsed.progress.lines_consumed, 4);
}

TEST(CsvParser, NullInNonNullableColumnIsABadRow) {
  CsvParser parser = StartedParser();
  Parsed parsed = ParseAll(parser, "id,name\n,a\n");
  ASSERT_TRUE(parsed.progress.bad_row);
  EXPECT_EQ(*parsed.progress.bad_row,
            "data/products/a.csv:2: column 'id': NULL in a non-nullable column");
}

TEST(CsvParser, TextAfterClosingQuoteIsABadRowAndTheNextRecordIsIntact) {
  CsvParser parser = StartedParser();
  const std::string data = "id,name\n1,\"a\"b\n2,c\n";
  Parsed first = ParseAll(parser, data);
  ASSERT_TRUE(first.progress.bad_row);
  EXPECT_EQ(*first.progress.bad_row,
            "data/products/a.csv:2: text after the closing quote of a quoted field");
  Parsed second = ParseAll(parser, std::string_view(data).substr(first.progress.bytes_consumed), 3);
  EXPECT_EQ(Show(second.records), (std::vector<std::string>{"2, 'c'"}));
}

TEST(CsvParser, MatchesColumnsByHeaderNameIgnoringExtrasAndNullingMissing) {
  CsvParser parser = StartedParser(MakeSchema({{"id", FieldType::kInt, false},
                                               {"name", FieldType::kString, true},
                                               {"price", FieldType::kDecimal, true}}));
  Parsed parsed = ParseAll(parser, "extra,name,id\nzzz,a,1\n");
  EXPECT_EQ(Show(parsed.records), (std::vector<std::string>{"1, 'a', NULL"}));
}

TEST(CsvParser, HeaderIsPerFile) {
  CsvParser parser = StartedParser();
  EXPECT_EQ(Show(ParseAll(parser, "id,name\n1,a\n").records), (std::vector<std::string>{"1, 'a'"}));
  parser.StartFile("data/products/b.csv");
  EXPECT_TRUE(parser.awaiting_header());
  EXPECT_EQ(Show(ParseAll(parser, "name,id\nb,2\n").records), (std::vector<std::string>{"2, 'b'"}));
}

TEST(CsvParser, HeaderMissingNonNullableColumnIsAnError) {
  CsvParser parser = StartedParser();
  std::vector<Record> records;
  Result<ParseProgress> progress = parser.Parse("name\na\n", 1, 10, &records);
  ASSERT_FALSE(progress.ok());
  EXPECT_EQ(progress.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(progress.status().message(),
            "data/products/a.csv:1: header has no column 'id', which the schema declares not "
            "nullable");
}

TEST(CsvParser, HeaderNamingAColumnTwiceIsAnError) {
  CsvParser parser = StartedParser();
  std::vector<Record> records;
  Result<ParseProgress> progress = parser.Parse("id,name,id\n", 1, 10, &records);
  ASSERT_FALSE(progress.ok());
  EXPECT_EQ(progress.status().message(), "data/products/a.csv:1: header names column 'id' twice");
}

TEST(CsvParser, MaxRecordsStopsAtARecordBoundary) {
  CsvParser parser = StartedParser();
  const std::string data = "id,name\n1,a\n2,\"b\nb\"\n3,c\n";
  Parsed first = ParseAll(parser, data, 1, 2);
  EXPECT_EQ(Show(first.records), (std::vector<std::string>{"1, 'a'", "2, 'b\nb'"}));
  EXPECT_EQ(first.progress.bytes_consumed, data.size() - std::string("3,c\n").size());
  EXPECT_EQ(first.progress.lines_consumed, 4);
}

// Resuming in the middle of a file: the header is parsed from the file's first bytes with
// max_records 0, and the records in those bytes are not produced.
TEST(CsvParser, HeaderOnlyParseForResuming) {
  CsvParser parser = StartedParser();
  const std::string data = "name,id\na,1\nb,2\n";
  Parsed head = ParseAll(parser, data, 1, 0);
  EXPECT_FALSE(parser.awaiting_header());
  EXPECT_TRUE(head.records.empty());
  EXPECT_EQ(head.progress.bytes_consumed, std::string("name,id\n").size());
  const size_t resume_at = std::string("name,id\na,1\n").size();
  EXPECT_EQ(Show(ParseAll(parser, std::string_view(data).substr(resume_at), 3).records),
            (std::vector<std::string>{"2, 'b'"}));
}

TEST(CsvParser, ConvertsTypedValuesWithTheValueTextRules) {
  CsvParser parser = StartedParser(MakeSchema({{"ok", FieldType::kBoolean, true},
                                               {"price", FieldType::kDecimal, true},
                                               {"at", FieldType::kTimestamp, true},
                                               {"ratio", FieldType::kFloat, true}}));
  Parsed parsed = ParseAll(parser, "ok,price,at,ratio\nyes,12.50,1970-01-01T00:00:01Z,0.5\n");
  ASSERT_EQ(parsed.records.size(), 1u);
  const Record& record = parsed.records[0];
  EXPECT_EQ(record[0], Value(true));
  EXPECT_EQ(record[1].as_decimal().ToString(), "12.50");
  EXPECT_EQ(record[2], Value(int64_t{1'000'000}));
  EXPECT_EQ(record[3], Value(0.5));
}

TEST(ParseCsvHeader, ReadsNamesOrReportsIncomplete) {
  Result<std::optional<std::vector<std::string>>> header =
      ParseCsvHeader("\xEF\xBB\xBF\nid,\"full name\",\"a\"\"b\"\r\n1,x,y\n");
  ASSERT_TRUE(header.ok());
  ASSERT_TRUE(*header);
  EXPECT_EQ(**header, (std::vector<std::string>{"id", "full name", "a\"b"}));

  Result<std::optional<std::vector<std::string>>> incomplete = ParseCsvHeader("id,name");
  ASSERT_TRUE(incomplete.ok());
  EXPECT_FALSE(*incomplete);

  EXPECT_FALSE(ParseCsvHeader("\"id\"x,name\n").ok());
}

}  // namespace
}  // namespace sluice
