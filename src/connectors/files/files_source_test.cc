#include "connectors/files/files_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/files/directory_tailer.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kWaitLimit = 3s;  // far above what any wait below needs

std::string Show(const Record& record) {
  std::string line;
  for (const Value& value : record) line += (line.empty() ? "" : ", ") + value.DebugString();
  return line;
}

// Runs a reader on its own thread, as the pipeline does, and records what it emits.
class RunningSource {
 public:
  // `accept_batches`: how many batches emit accepts before it reports a shutdown (false).
  explicit RunningSource(SourceReader& reader, std::string start_position = "",
                         size_t accept_batches = SIZE_MAX) {
    context_.start_position = std::move(start_position);
    context_.stop = stop_.get_token();
    context_.emit = [this, accept_batches](OperationBatch batch) {
      std::lock_guard lock(mutex_);
      if (batches_.size() >= accept_batches) return false;
      for (Operation& op : batch.ops) {
        EXPECT_EQ(op.kind, OpKind::kInsert);
        rows_.push_back(Show(op.new_record));
      }
      batches_.push_back(std::move(batch));
      changed_.notify_all();
      return true;
    };
    thread_ = std::thread([this, &reader] {
      Status status = reader.Run(context_);
      std::lock_guard lock(mutex_);
      status_ = std::move(status);
      finished_ = true;
      changed_.notify_all();
    });
  }

  ~RunningSource() { (void)Stop(); }

  // Waits until at least `count` rows were emitted; false on timeout.
  bool WaitForRows(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWaitLimit, [&] {
      return rows_.size() >= count || finished_;
    }) && rows_.size() >= count;
  }

  // Waits until Run returned by itself; false on timeout.
  bool WaitForExit() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWaitLimit, [&] { return finished_; });
  }

  // Requests a stop and returns Run's status.
  Status Stop() {
    if (thread_.joinable()) {
      stop_.request_stop();
      thread_.join();
    }
    std::lock_guard lock(mutex_);
    return status_;
  }

  std::vector<std::string> rows() {
    std::lock_guard lock(mutex_);
    return rows_;
  }
  std::vector<OperationBatch> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  SourceContext context_;
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> rows_;
  std::vector<OperationBatch> batches_;
  Status status_;
  bool finished_ = false;
  std::thread thread_;
};

class FilesSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "sluice-files-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directory(root_ / "products");
    connection_.name = "local";
    connection_.kind = ConnectionKind::kFiles;
    connection_.files.path = root_.string();
    connection_.files.format = FileFormat::kCsv;
    connection_.files.on_error = OnError::kFail;
    source_.name = "products";
    source_.connection = "local";
    source_.table = "products";
    source_.schema =
        std::vector<Field>{{"id", FieldType::kInt, false}, {"name", FieldType::kString, true}};
    source_.primary_key = {"id"};
    options_.poll_interval = 20ms;
  }

  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& file, const std::string& text, const char* table = "products") {
    std::ofstream out(root_ / table / file, std::ios::binary | std::ios::trunc);
    out << text;
  }
  void Append(const std::string& file, const std::string& text) {
    std::ofstream out(root_ / "products" / file, std::ios::binary | std::ios::app);
    out << text;
  }
  std::string PathOf(const std::string& file) const { return (root_ / "products" / file).string(); }

  std::unique_ptr<FilesSource> OpenOrDie() {
    Result<std::unique_ptr<FilesSource>> source = FilesSource::Open(connection_, source_, options_);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(source).value() : nullptr;
  }

  fs::path root_;
  ConnectionConfig connection_;
  SourceConfig source_;
  FilesSource::Options options_;
};

TEST_F(FilesSourceTest, ReadsExistingFilesInNameOrderAndIgnoresOthers) {
  Write("b.csv", "id,name\n3,c\n");
  Write("a.csv", "name,id\na,1\nb,2\n");
  Write("c.csv", "id,name\n4,d\n");
  Write("notes.txt", "id,name\n99,not csv\n");
  Write(".hidden.csv", "id,name\n98,temporary\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  EXPECT_EQ(source->schema().primary_key, (std::vector<size_t>{0}));

  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForRows(4));
  EXPECT_EQ(run.rows(), (std::vector<std::string>{"1, 'a'", "2, 'b'", "3, 'c'", "4, 'd'"}));
  ASSERT_TRUE(run.Stop().ok());
  std::vector<OperationBatch> batches = run.batches();
  Result<std::vector<DirectoryTailer::FilePosition>> position =
      DirectoryTailer::DecodePositions(batches.back().position);
  ASSERT_TRUE(position.ok()) << position.status().ToString();
  EXPECT_EQ(*position, (std::vector<DirectoryTailer::FilePosition>{
                           {"a.csv", fs::file_size(PathOf("a.csv")), 3},
                           {"b.csv", fs::file_size(PathOf("b.csv")), 2},
                           {"c.csv", fs::file_size(PathOf("c.csv")), 2}}));
}

TEST_F(FilesSourceTest, PicksUpAppendedRowsAndNewFilesWhileRunning) {
  Write("a.csv", "id,name\n1,a\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForRows(1));

  const auto appended_at = std::chrono::steady_clock::now();
  Append("a.csv", "2,b\n3,c");  // the last line has no line end yet
  Write("b.csv", "id,name\n4,d\n");
  ASSERT_TRUE(run.WaitForRows(3));
  EXPECT_LT(std::chrono::steady_clock::now() - appended_at, 2s);
  EXPECT_EQ(run.rows(), (std::vector<std::string>{"1, 'a'", "2, 'b'", "4, 'd'"}));

  Append("a.csv", "x\n");  // completes "3,cx", which must be read as one row
  ASSERT_TRUE(run.WaitForRows(4));
  EXPECT_EQ(run.rows().back(), "3, 'cx'");
  EXPECT_TRUE(run.Stop().ok());
  EXPECT_EQ(run.rows().size(), 4u);
}

// Runs once to collect every batch; then a run started from each batch's position must emit
// exactly the rows after that batch. Small batches and read chunks put positions in the middle
// of files and records across chunk boundaries; a.csv's header is in another column order than
// the schema, so a resumed run has to re-read it.
TEST_F(FilesSourceTest, RestartFromAnyPositionContinuesExactlyAfterIt) {
  std::string a = "name,id\n";
  for (int i = 1; i <= 8; ++i) a += "\"n" + std::to_string(i) + "\nx\"," + std::to_string(i) + "\n";
  Write("a.csv", a);
  Write("b.csv", "id,name\n9,i\n10,j\n11,k\n");
  options_.max_batch_rows = 3;
  options_.read_chunk_bytes = 7;
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);

  std::vector<std::string> all_rows;
  std::vector<OperationBatch> batches;
  {
    RunningSource run(*source);
    ASSERT_TRUE(run.WaitForRows(11));
    ASSERT_TRUE(run.Stop().ok());
    all_rows = run.rows();
    batches = run.batches();
  }
  ASSERT_EQ(all_rows.size(), 11u);
  EXPECT_EQ(all_rows[0], "1, 'n1\nx'");
  EXPECT_EQ(all_rows[10], "11, 'k'");
  ASSERT_GE(batches.size(), 4u);

  size_t rows_before = 0;
  for (const OperationBatch& batch : batches) {
    rows_before += batch.ops.size();
    std::vector<std::string> expected(all_rows.begin() + rows_before, all_rows.end());
    if (expected.empty()) {  // after the last batch, only rows appended later may follow
      Append("b.csv", "12,l\n");
      expected.push_back("12, 'l'");
    }
    RunningSource resumed(*source, batch.position);
    ASSERT_TRUE(resumed.WaitForRows(expected.size())) << "resumed after " << rows_before;
    ASSERT_TRUE(resumed.Stop().ok());
    EXPECT_EQ(resumed.rows(), expected) << "resumed after " << rows_before << " rows";
  }
}

TEST_F(FilesSourceTest, RestartInsideAnIncompleteLastLine) {
  Write("a.csv", "id,name\n1,a\n2,b");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  std::string position;
  {
    RunningSource run(*source);
    ASSERT_TRUE(run.WaitForRows(1));
    ASSERT_TRUE(run.Stop().ok());
    position = run.batches().back().position;
  }
  Append("a.csv", "b\n3,c\n");
  RunningSource resumed(*source, position);
  ASSERT_TRUE(resumed.WaitForRows(2));
  ASSERT_TRUE(resumed.Stop().ok());
  EXPECT_EQ(resumed.rows(), (std::vector<std::string>{"2, 'bb'", "3, 'c'"}));
}

TEST_F(FilesSourceTest, OnErrorFailReturnsTheFileAndLine) {
  Write("a.csv", "id,name\n1,a\n\"two\nlines\",b\nx,c\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForExit());
  Status status = run.Stop();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), PathOf("a.csv") + ":3: column 'id': invalid int 'two\nlines'");
}

TEST_F(FilesSourceTest, OnErrorSkipContinuesAndCounts) {
  connection_.files.on_error = OnError::kSkip;
  Write("a.csv", "id,name\n1,a\nx,b\n2,c\n3\n");
  Write("b.csv", "id,name\n4,d\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForRows(3));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(run.rows(), (std::vector<std::string>{"1, 'a'", "2, 'c'", "4, 'd'"}));
  EXPECT_EQ(source->skipped_rows(), 2u);
}

TEST_F(FilesSourceTest, HeaderThatDoesNotFitTheSchemaStopsEvenWhenSkipping) {
  connection_.files.on_error = OnError::kSkip;
  Write("a.csv", "name\na\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForExit());
  Status status = run.Stop();
  EXPECT_EQ(status.message(), PathOf("a.csv") +
                                  ":1: header has no column 'id', which the schema declares "
                                  "not nullable");
}

TEST_F(FilesSourceTest, InfersStringColumnsFromTheFirstFilesHeader) {
  source_.schema.reset();
  Write("b.csv", "other\n");
  Write("a.csv", "id,\"full name\"\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  EXPECT_EQ(source->schema().fields, (std::vector<Field>{{"id", FieldType::kString, true},
                                                         {"full name", FieldType::kString, true}}));
  EXPECT_EQ(source->schema().primary_key, (std::vector<size_t>{0}));

  RunningSource run(*source);
  Append("a.csv", "1,Ann\n");
  ASSERT_TRUE(run.WaitForRows(1));
  EXPECT_EQ(run.rows(), (std::vector<std::string>{"'1', 'Ann'"}));
}

TEST_F(FilesSourceTest, InferringNeedsACompleteHeader) {
  source_.schema.reset();
  source_.primary_key.clear();
  Write("a.csv", "id,name");
  Result<std::unique_ptr<FilesSource>> source = FilesSource::Open(connection_, source_, options_);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("has no complete header line"), std::string::npos)
      << source.status().message();
}

TEST_F(FilesSourceTest, OpenErrorsNameWhatIsMissing) {
  source_.schema.reset();
  Result<std::unique_ptr<FilesSource>> no_file = FilesSource::Open(connection_, source_, options_);
  ASSERT_FALSE(no_file.ok());
  EXPECT_EQ(no_file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_file.status().message(), "source 'products': no schema given and no CSV file in " +
                                            (root_ / "products").string() +
                                            " to read a header from; add a schema");

  connection_.files.format = FileFormat::kJsonl;
  Result<std::unique_ptr<FilesSource>> jsonl = FilesSource::Open(connection_, source_, options_);
  ASSERT_FALSE(jsonl.ok());
  EXPECT_NE(jsonl.status().message().find("add a schema"), std::string::npos);

  source_.table = "missing";
  Result<std::unique_ptr<SourceReader>> missing = OpenFilesSource(connection_, source_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find((root_ / "missing").string()), std::string::npos)
      << missing.status().message();
  EXPECT_FALSE(fs::exists(root_ / "missing"));
}

TEST_F(FilesSourceTest, UnknownPrimaryKeyColumnIsNamed) {
  source_.primary_key = {"sku"};
  Result<std::unique_ptr<SourceReader>> source = OpenFilesSource(connection_, source_);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("'sku'"), std::string::npos)
      << source.status().message();
}

TEST_F(FilesSourceTest, MalformedStartPositionIsRejected) {
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source, "not a position");
  ASSERT_TRUE(run.WaitForExit());
  EXPECT_EQ(run.Stop().code(), StatusCode::kInvalidArgument);
}

TEST_F(FilesSourceTest, ReadsAndTailsJsonLines) {
  connection_.files.format = FileFormat::kJsonl;
  Write("a.jsonl", "{\"id\": 1, \"name\": \"a\"}\n\n{\"name\": \"b\", \"id\": 2}\n");
  Write("a.csv", "id,name\n99,ignored\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForRows(2));
  Append("a.jsonl", "{\"id\": 3}\n");
  ASSERT_TRUE(run.WaitForRows(3));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(run.rows(), (std::vector<std::string>{"1, 'a'", "2, 'b'", "3, NULL"}));
}

TEST_F(FilesSourceTest, StopWakesAnIdleRunWithoutWaitingForThePoll) {
  options_.poll_interval = 60s;
  Write("a.csv", "id,name\n1,a\n");
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForRows(1));
  const auto stop_at = std::chrono::steady_clock::now();
  EXPECT_TRUE(run.Stop().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 1s);
}

TEST_F(FilesSourceTest, BatchesAreBoundedAndRowsFlushWhenDataRunsOut) {
  options_.max_batch_rows = 4;
  std::string a = "id,name\n";
  for (int i = 1; i <= 10; ++i) a += std::to_string(i) + ",x\n";
  Write("a.csv", a);
  std::unique_ptr<FilesSource> source = OpenOrDie();
  ASSERT_TRUE(source);
  RunningSource run(*source);
  ASSERT_TRUE(run.WaitForRows(10));
  ASSERT_TRUE(run.Stop().ok());
  std::vector<size_t> sizes;
  for (const OperationBatch& batch : run.batches()) sizes.push_back(batch.ops.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
}

TEST(DirectoryTailerPosition, RoundTripsAwkwardNames) {
  std::vector<DirectoryTailer::FilePosition> positions = {
      {"a b.csv", 10, 2}, {"100%.csv", 0, 0}, {"line\nbreak\r.csv", 123456789012, 7}};
  std::string text = DirectoryTailer::EncodePositions(positions);
  Result<std::vector<DirectoryTailer::FilePosition>> decoded =
      DirectoryTailer::DecodePositions(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, positions);
}

TEST(DirectoryTailerPosition, RejectsMalformedText) {
  for (std::string text :
       {"", "files-position v2\n", "files-position v1\n10 2\n", "files-position v1\nx 0 a.csv\n",
        "files-position v1\n1 5 a.csv\n", "files-position v1\n1 0 a%zz.csv\n",
        "files-position v1\n1 0 a.csv\n2 0 a.csv\n"}) {
    Result<std::vector<DirectoryTailer::FilePosition>> decoded =
        DirectoryTailer::DecodePositions(text);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace sluice
