#include "connectors/generator/nexmark_source.h"

#include <charconv>
#include <chrono>
#include <thread>

#include "connectors/generator/nexmark_generator.h"

namespace sluice {
namespace {

constexpr size_t kBatchSize = 4096;

// Emits this table's events of the global event sequence [position, events). The position is
// the next global event index, as decimal text.
class NexmarkSource final : public SourceReader {
 public:
  NexmarkSource(GeneratorOptions options, NexmarkGenerator::Table table, Schema schema)
      : options_(options), table_(table), schema_(std::move(schema)), generator_(options.seed) {}

  const Schema& schema() const override { return schema_; }

  Status Run(SourceContext& context) override {
    uint64_t next = 0;
    if (!context.start_position.empty()) {
      const std::string& p = context.start_position;
      auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), next);
      if (ec != std::errc() || ptr != p.data() + p.size()) {
        return InvalidArgument("generator position '" + p + "' is not an event index");
      }
    }
    const uint64_t end = options_.events == 0 ? UINT64_MAX : options_.events;
    // An endless stream has no backlog to catch up on (a bounded one catches up by ending).
    if (end == UINT64_MAX && context.caught_up) context.caught_up();
    const auto started = std::chrono::steady_clock::now();
    const uint64_t first_event = next;
    next = NexmarkGenerator::NextEventOf(table_, next);
    while (next < end && !context.stop.stop_requested()) {
      uint64_t limit = end;
      if (options_.rate > 0) {
        // Pace on the global event index so several tables of one stream keep the mix.
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        uint64_t due = first_event + uint64_t(elapsed * options_.rate) + 1;
        if (next >= due) {
          double wait = double(next - first_event) / options_.rate - elapsed;
          std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, 0.05)));
          continue;
        }
        limit = std::min(limit, due);
      }
      OperationBatch batch;
      batch.ops.reserve(kBatchSize);
      while (next < limit && batch.ops.size() < kBatchSize) {
        Operation op;
        generator_.Generate(next, op.new_record);
        batch.ops.push_back(std::move(op));
        next = NexmarkGenerator::NextEventOf(table_, next + 1);
      }
      batch.position = std::to_string(std::min(next, end));
      if (!context.emit(std::move(batch))) return Status::OK();
    }
    return Status::OK();
  }

 private:
  GeneratorOptions options_;
  NexmarkGenerator::Table table_;
  Schema schema_;
  NexmarkGenerator generator_;
};

}  // namespace

Result<std::unique_ptr<SourceReader>> OpenNexmarkSource(const ConnectionConfig& connection,
                                                        const SourceConfig& source) {
  NexmarkGenerator::Table table;
  if (source.table == "person") {
    table = NexmarkGenerator::Table::kPerson;
  } else if (source.table == "auction") {
    table = NexmarkGenerator::Table::kAuction;
  } else if (source.table == "bid") {
    table = NexmarkGenerator::Table::kBid;
  } else {
    return source.location.Error("the nexmark generator has tables person, auction and bid, not '" +
                                 source.table + "'");
  }
  Schema schema = NexmarkGenerator::SchemaOf(table);
  if (!source.primary_key.empty()) {
    auto key = schema.ResolveColumns(source.primary_key);
    if (!key.ok()) return source.location.Error("primary_key: " + key.status().message());
    schema.primary_key = *key;
  }
  return std::unique_ptr<SourceReader>(
      std::make_unique<NexmarkSource>(connection.generator, table, std::move(schema)));
}

}  // namespace sluice
