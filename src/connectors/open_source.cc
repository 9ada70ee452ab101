#include "connectors/connector.h"
#include "connectors/files/files_source.h"
#include "connectors/generator/nexmark_source.h"
#include "connectors/postgres/postgres_capture.h"

namespace sluice {
namespace {

// A single-table reader seen as a capture of one table, positioned under the source's name.
class SingleTableCapture final : public CaptureReader {
 public:
  SingleTableCapture(std::string name, std::unique_ptr<SourceReader> reader)
      : name_(std::move(name)), reader_(std::move(reader)), schemas_{reader_->schema()} {}
  const std::vector<Schema>& schemas() const override { return schemas_; }
  std::string position_key() const override { return name_; }
  Status Run(CaptureContext& context) override {
    SourceContext single;
    single.start_position = context.start_position;
    single.stop = context.stop;
    single.caught_up = context.caught_up;
    single.emit = [&](OperationBatch batch) {
      std::vector<std::vector<Operation>> tables(1);
      tables[0] = std::move(batch.ops);
      return context.emit(std::move(tables), std::move(batch.position));
    };
    return reader_->Run(single);
  }

 private:
  std::string name_;
  std::unique_ptr<SourceReader> reader_;
  std::vector<Schema> schemas_;
};

}  // namespace

Result<std::unique_ptr<SourceReader>> OpenSource(const ConnectionConfig& connection,
                                                 const SourceConfig& source) {
  switch (connection.kind) {
    case ConnectionKind::kGenerator:
      return OpenNexmarkSource(connection, source);
    case ConnectionKind::kFiles:
      return OpenFilesSource(connection, source);
    case ConnectionKind::kPostgres:
      break;
  }
  return Internal("source '" + source.name + "': postgres tables are opened with OpenCapture");
}

Result<std::unique_ptr<CaptureReader>> OpenCapture(
    const Config& config, const ConnectionConfig& connection,
    const std::vector<const SourceConfig*>& sources) {
  if (connection.kind == ConnectionKind::kPostgres) {
    return OpenPostgresCapture(config, connection, sources);
  }
  if (sources.size() != 1) return Internal("one source per capture on " + connection.name);
  ASSIGN_OR_RETURN(std::unique_ptr<SourceReader> reader, OpenSource(connection, *sources[0]));
  return std::unique_ptr<CaptureReader>(
      std::make_unique<SingleTableCapture>(sources[0]->name, std::move(reader)));
}

}  // namespace sluice
