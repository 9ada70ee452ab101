#include "connectors/files/files_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "common/stop_wait.h"
#include "connectors/files/csv_parser.h"
#include "connectors/files/jsonl_parser.h"

namespace sluice {
namespace {

// Header reads start small and grow; a header longer than this is refused.
constexpr size_t kFirstHeaderReadBytes = size_t{64} << 10;
constexpr size_t kMaxHeaderBytes = size_t{16} << 20;

std::string_view ExtensionOf(FileFormat format) {
  return format == FileFormat::kCsv ? ".csv" : ".jsonl";
}

// Column names from the header of the table's first CSV file, as nullable strings.
Result<std::vector<Field>> InferCsvFields(const SourceConfig& source,
                                          const std::filesystem::path& directory) {
  auto source_error = [&](const std::string& message) {
    return InvalidArgument("source '" + source.name + "': " + message);
  };
  ASSIGN_OR_RETURN(std::vector<std::string> files, DirectoryTailer::ListFiles(directory, ".csv"));
  if (files.empty()) {
    return source_error("no schema given and no CSV file in " + directory.string() +
                        " to read a header from; add a schema");
  }
  const std::filesystem::path first = directory / files.front();
  std::optional<std::vector<std::string>> names;
  for (size_t want = kFirstHeaderReadBytes; want <= kMaxHeaderBytes; want *= 4) {
    ASSIGN_OR_RETURN(std::string head, DirectoryTailer::ReadFileBytes(first, 0, want));
    Result<std::optional<std::vector<std::string>>> header = ParseCsvHeader(head);
    if (!header.ok()) return source_error(first.string() + ": " + header.status().message());
    names = std::move(header).value();
    if (names || head.size() < want) break;
  }
  if (!names) {
    return source_error("no schema given and " + first.string() +
                        " has no complete header line (ending in a line break) to read column "
                        "names from; add a schema");
  }
  std::vector<Field> fields;
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < names->size(); ++i) {
    std::string& name = (*names)[i];
    if (name.empty()) {
      return source_error(fmt::format("{}: header column {} has no name; name it or add a schema",
                                      first.string(), i + 1));
    }
    if (!seen.insert(name).second) {
      return source_error(
          fmt::format("{}: header names column '{}' twice; add a schema", first.string(), name));
    }
    fields.push_back(Field{std::move(name), FieldType::kString, /*nullable=*/true});
  }
  return fields;
}

}  // namespace

FilesSource::FilesSource(OpenKey, std::string source_name, std::filesystem::path directory,
                         FileFormat format, OnError on_error, Schema schema, Options options)
    : source_name_(std::move(source_name)),
      directory_(std::move(directory)),
      format_(format),
      on_error_(on_error),
      schema_(std::move(schema)),
      options_(options) {
  options_.max_batch_rows = std::max<size_t>(options_.max_batch_rows, 1);
}

Result<std::unique_ptr<FilesSource>> FilesSource::Open(const ConnectionConfig& connection,
                                                       const SourceConfig& source,
                                                       Options options) {
  const FileFormat format = connection.files.format;
  std::filesystem::path directory = std::filesystem::path(connection.files.path) / source.table;
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    return InvalidArgument(fmt::format(
        "source '{}': table directory {} does not exist (connection '{}' reads the files "
        "<path>/<table>/*{}); create it or fix `path` or `table`",
        source.name, directory.string(), connection.name, ExtensionOf(format)));
  }
  Schema schema;
  if (source.schema) {
    schema.fields = *source.schema;
  } else if (format == FileFormat::kJsonl) {
    return InvalidArgument("source '" + source.name +
                           "': JSON Lines files do not declare their columns; add a schema "
                           "(a list of {name, type, nullable}) to the source");
  } else {
    ASSIGN_OR_RETURN(schema.fields, InferCsvFields(source, directory));
  }
  Result<std::vector<size_t>> primary_key = schema.ResolveColumns(source.primary_key);
  if (!primary_key.ok()) {
    return InvalidArgument("source '" + source.name +
                           "': primary_key: " + primary_key.status().message());
  }
  schema.primary_key = std::move(primary_key).value();
  return std::make_unique<FilesSource>(OpenKey(), source.name, std::move(directory), format,
                                       connection.files.on_error, std::move(schema), options);
}

std::unique_ptr<RecordParser> FilesSource::MakeParser() const {
  if (format_ == FileFormat::kCsv) return std::make_unique<CsvParser>(schema_);
  return std::make_unique<JsonlParser>(schema_);
}

Status FilesSource::StartFile(const DirectoryTailer::Chunk& chunk, RecordParser* parser) const {
  const std::filesystem::path path = directory_ / chunk.file_name;
  parser->StartFile(path.string());
  if (!parser->awaiting_header() || chunk.offset == 0) return Status::OK();
  // Resuming inside the file: the header lies before the chunk (unless only blank lines were
  // consumed so far, in which case it is at the chunk's start and parsed from there).
  std::vector<Record> ignored;
  for (uint64_t want = std::min<uint64_t>(chunk.offset, kFirstHeaderReadBytes);;
       want = std::min<uint64_t>(chunk.offset, want * 4)) {
    ASSIGN_OR_RETURN(std::string head, DirectoryTailer::ReadFileBytes(path, 0, want));
    RETURN_IF_ERROR(parser->Parse(head, /*first_line=*/1, /*max_records=*/0, &ignored).status());
    if (!parser->awaiting_header() || want >= chunk.offset || head.size() < want) break;
  }
  return Status::OK();
}

Status FilesSource::Run(SourceContext& context) {
  DirectoryTailer tailer(directory_, std::string(ExtensionOf(format_)), options_.read_chunk_bytes);
  if (!context.start_position.empty()) {
    Result<std::vector<DirectoryTailer::FilePosition>> positions =
        DirectoryTailer::DecodePositions(context.start_position);
    if (!positions.ok()) return positions.status().WithContext("source '" + source_name_ + "'");
    tailer.Restore(*positions);
  }
  std::unique_ptr<RecordParser> parser = MakeParser();
  std::string parser_file;  // the file `parser` is set up for
  OperationBatch batch;
  std::vector<Record> records;

  // Hands the pending rows downstream; false when the pipeline no longer takes batches.
  auto flush = [&]() -> bool {
    if (batch.ops.empty()) return true;
    batch.position = DirectoryTailer::EncodePositions(tailer.positions());
    bool accepted = context.emit(std::move(batch));
    batch = OperationBatch();
    return accepted;
  };

  RETURN_IF_ERROR(tailer.Rescan());
  while (!context.stop.stop_requested()) {
    ASSIGN_OR_RETURN(std::optional<DirectoryTailer::Chunk> chunk, tailer.Next());
    if (!chunk) {
      if (!flush()) return Status::OK();
      if (context.caught_up) context.caught_up();  // every file seen so far is read
      SleepUnlessStopped(context.stop, options_.poll_interval);
      RETURN_IF_ERROR(tailer.Rescan());
      continue;
    }
    if (chunk->file_name != parser_file) {
      parser_file = chunk->file_name;
      RETURN_IF_ERROR(StartFile(*chunk, parser.get()));
    }
    std::string_view data = chunk->data;
    int64_t line = chunk->lines + 1;
    while (!context.stop.stop_requested()) {
      records.clear();
      ASSIGN_OR_RETURN(
          ParseProgress progress,
          parser->Parse(data, line, options_.max_batch_rows - batch.ops.size(), &records));
      tailer.Consume(progress.bytes_consumed, progress.lines_consumed);
      data.remove_prefix(progress.bytes_consumed);
      line += progress.lines_consumed;
      for (Record& record : records) batch.ops.push_back(Operation::Insert(std::move(record)));
      if (progress.bad_row) {
        if (on_error_ == OnError::kFail) return InvalidArgument(*progress.bad_row);
        const uint64_t skipped = skipped_rows_.fetch_add(1, std::memory_order_relaxed) + 1;
        spdlog::warn("source '{}': skipped bad row ({} so far): {}", source_name_, skipped,
                     *progress.bad_row);
      }
      if (batch.ops.size() >= options_.max_batch_rows) {
        if (!flush()) return Status::OK();
      } else if (!progress.bad_row) {
        break;  // the rest of `data` is an incomplete record: read more
      }
    }
  }
  flush();
  return Status::OK();
}

Result<std::unique_ptr<SourceReader>> OpenFilesSource(const ConnectionConfig& connection,
                                                      const SourceConfig& source) {
  ASSIGN_OR_RETURN(std::unique_ptr<FilesSource> reader, FilesSource::Open(connection, source));
  return std::unique_ptr<SourceReader>(std::move(reader));
}

}  // namespace sluice
