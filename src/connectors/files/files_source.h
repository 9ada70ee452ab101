// The files connector: a source table is the directory <path>/<table>, and its rows are the
// records of the *.csv or *.jsonl files in it (per the connection's `format`), read in name
// order and then tailed: rows appended to a file and files created later show up while the
// source runs. It pairs a transport (DirectoryTailer) with a format (CsvParser, JsonlParser).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/files/directory_tailer.h"
#include "connectors/files/record_parser.h"
#include "types/schema.h"

namespace sluice {

// Tuning knobs of a FilesSource; the defaults suit production, tests shrink them.
struct FilesSourceOptions {
  size_t max_batch_rows = 4096;
  std::chrono::milliseconds poll_interval{250};
  size_t read_chunk_bytes = DirectoryTailer::kDefaultReadChunkBytes;
};

// Reads one files source. Run() emits Insert batches of at most `max_batch_rows` rows, and a
// smaller batch whenever it has read everything there is; then it polls the directory every
// `poll_interval` until stopped. Each batch's position is the DirectoryTailer position text
// (every file's consumed offset and line count), so a restart from it continues right after the
// batch's last row. Bad rows stop Run with "<file>:<line>: <reason>" (on_error: fail) or are
// logged and counted (on_error: skip). A CSV header that does not fit the schema stops Run under
// either setting: no row of that file could be read. A last line without a line end is not
// read until it gets one.
//
// Threading: Run() runs on the source's thread, one call at a time (each call starts afresh from
// context.start_position); schema(), skipped_rows() and directory() may be called from any
// thread.
class FilesSource final : public SourceReader {
 private:
  // Only Open() constructs a FilesSource: it resolves and checks what the constructor takes.
  struct OpenKey {
    explicit OpenKey() = default;
  };

 public:
  using Options = FilesSourceOptions;

  // Resolves the schema (the config's, or for CSV the header of the table's first file) and
  // the primary key, and checks that the table directory exists. Errors name the source.
  static Result<std::unique_ptr<FilesSource>> Open(const ConnectionConfig& connection,
                                                   const SourceConfig& source,
                                                   Options options = Options());

  FilesSource(OpenKey, std::string source_name, std::filesystem::path directory, FileFormat format,
              OnError on_error, Schema schema, Options options);

  const Schema& schema() const override { return schema_; }
  Status Run(SourceContext& context) override;

  // Bad rows skipped so far (on_error: skip).
  uint64_t skipped_rows() const { return skipped_rows_.load(std::memory_order_relaxed); }
  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::unique_ptr<RecordParser> MakeParser() const;
  // Sets `parser` up for the file `chunk` comes from; when the chunk starts after the file's
  // header, parses the header from the file's first bytes.
  Status StartFile(const DirectoryTailer::Chunk& chunk, RecordParser* parser) const;

  std::string source_name_;
  std::filesystem::path directory_;
  FileFormat format_;
  OnError on_error_;
  Schema schema_;
  Options options_;
  std::atomic<uint64_t> skipped_rows_{0};
};

// The entry point open_source.cc dispatches to for `kind: files`.
Result<std::unique_ptr<SourceReader>> OpenFilesSource(const ConnectionConfig& connection,
                                                      const SourceConfig& source);

}  // namespace sluice
