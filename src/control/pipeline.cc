#include "control/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/bounded_channel.h"
#include "control/app_log.h"
#include "control/cache_syncer.h"
#include "control/endpoint_indexes.h"
#include "dataflow/dataflow_graph.h"
#include "sql/binder.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/tagged_record.h"

namespace sluice {
namespace {

constexpr size_t kSinkChannelBatches = 8;
constexpr size_t kWriterChannelBatches = 16;
// How often sources inject an epoch barrier; an epoch commits as one LMDB transaction, so this
// bounds how stale the cache is behind a source change (freshness).
constexpr auto kEpochInterval = std::chrono::milliseconds(10);
constexpr auto kSyncInterval = std::chrono::milliseconds(1000);
constexpr auto kRetentionInterval = std::chrono::seconds(10);
// Rows per Restore() call when operator state is loaded at start.
constexpr size_t kRestoreChunk = 4096;
// Cache metadata naming the stateful stages the stored operator checkpoints belong to.
constexpr const char* kOperatorStateMeta = "operator_state";

// What a sink receives: a batch of changes (a FlowBatch from a source or a statement), or the
// barrier that ends an epoch on its path.
struct SinkInput {
  bool barrier = false;
  uint64_t epoch = 0;
  FlowBatch batch;
};

// What the writer receives on a lane (a sink, or a stateful SQL stage): encoded changes, a
// stage's checkpoint, an epoch's barrier, or the end.
struct WriterItem {
  enum Kind { kChanges, kState, kBarrier, kEnd };
  size_t lane = 0;
  Kind kind = kChanges;
  uint64_t epoch = 0;
  TableChanges changes{0};
  StageStateChanges state = {};
};

std::string Lineage(const ConnectionConfig& c, const SourceConfig& s) {
  std::string out = c.name + "/" + s.table + ":";
  if (c.kind == ConnectionKind::kGenerator) {
    out += "generator," + c.generator.dataset + ",seed=" + std::to_string(c.generator.seed);
  } else if (c.kind == ConnectionKind::kPostgres) {
    out += "postgres," + (c.postgres.slot.empty() ? "default slot" : "slot " + c.postgres.slot);
  } else {
    out += "files," + c.files.path + (c.files.format == FileFormat::kCsv ? ",csv" : ",jsonl");
  }
  return out;
}

}  // namespace

struct Pipeline::Impl {
  // One capture: a reader of one source table, or of every table of a postgres connection.
  struct SourceTable {
    const SourceConfig* config;
    std::vector<size_t> sinks;  // endpoints reading the source table directly
    bool read_by_sql = false;
  };
  struct SourceNode {
    std::string name;  // for logs and stats: the source, or the postgres connection
    const ConnectionConfig* connection;
    std::unique_ptr<CaptureReader> reader;
    std::vector<SourceTable> tables;
    // Held while a batch fans out to its targets and while a barrier is injected, so a barrier
    // never lands between one batch's deliveries. Guards the fields below it.
    std::mutex emit_mu;
    std::string last_position;  // of the last batch emitted
    uint64_t rows_since_epoch = 0;
    uint64_t emitted_rows = 0;
    // Rows emitted when the reader said it caught up (or ended): once that many are committed,
    // the cache holds everything the source had at the start.
    std::optional<uint64_t> caught_up_rows;
    std::mutex durable_mu;
    std::string durable_position;  // committed and synced: what the reader may acknowledge
    std::thread thread;
    std::atomic<uint64_t> committed_rows{0};
    // Emits no more and gets no more barriers; set under emit_mu, read anywhere.
    std::atomic<bool> finished{false};
    std::atomic<bool> failed{false};
  };
  struct SinkNode {
    const EndpointConfig* config;  // hidden mirrors: one of Impl::hidden_endpoints
    Schema schema;
    std::string lineage;
    std::vector<IndexDefinition> indexes;
    std::unique_ptr<BoundedChannel<SinkInput>> input;
    std::thread thread;
  };
  // Where every source stood when an epoch's barrier was injected: what the epoch's commit
  // records as positions.
  struct EpochInfo {
    std::vector<std::string> positions;
    std::vector<uint64_t> rows;
    bool complete = false;  // every source has been recorded (and got its barrier)
  };

  Config config;
  std::vector<std::unique_ptr<SourceNode>> sources;
  std::unique_ptr<DataflowGraph> sql;  // null without a sql: section
  std::vector<std::string> lineage;    // per statement
  std::vector<SinkNode> sinks;
  // Sinks from `served_sinks` on are hidden: the cache keeps them (a postgres table only SQL
  // reads, whose rows the capture reloads after a restart) but no API shows them.
  size_t served_sinks = 0;
  std::deque<EndpointConfig> hidden_endpoints;
  // SQL stages that keep state: stateful[i] has writer lane sinks.size() + i for its
  // checkpoints.
  std::vector<std::pair<size_t, size_t>> stateful;
  std::string state_layout;  // names the stateful stages (kOperatorStateMeta)
  // sql_checkpoints is off and some stage keeps state: every start rebuilds from the sources.
  bool replay_at_start = false;
  bool wrote_layout = false;
  BoundedChannel<WriterItem> writer_input{kWriterChannelBatches};
  std::mutex epochs_mu;  // taken after a source's emit_mu, never before
  std::map<uint64_t, EpochInfo> epochs;
  std::atomic<bool> emitted_since_barrier{false};
  std::thread epoch_thread;
  std::atomic<size_t> open_lanes{0};
  std::thread writer;
  std::stop_source stop;
  CacheStore* store = nullptr;
  AppLog* log = nullptr;  // when set, every commit is logged first
  std::atomic<bool> writer_done{false};
  std::chrono::steady_clock::time_point started_at;
  std::atomic<int64_t> finished_after_ns{-1};
  std::mutex error_mu;
  Status fatal_error;  // first of: cache write failure, SQL runtime error

  void RunSource(size_t index, std::string start_position);
  void RunEpochs();
  void InjectBarrier(uint64_t epoch);
  void RunSink(size_t index);
  void RunWriter();
  // Lets each source acknowledge up to its position in `positions` (durable now).
  void PublishDurable(const std::vector<std::string>& positions);
  // Hands the writer a stage's checkpoint (on the stage's thread).
  bool Checkpoint(DataflowGraph::StageCheckpoint checkpoint);
  void EndLane(size_t lane);
  // Feeds the operator checkpoints stored in `store` back into the stateful stages.
  Status RestoreState(const CacheStore& store);
  void EncodeInto(const SinkNode& sink, const OperationBatch& batch, TableChanges& out);
  bool DeliverBarrier(const SourceTable& table, uint64_t epoch);
  bool Deliver(const SourceTable& table, const FlowBatch& batch);
  void Fail(const Status& status);
  // Per table of a capture: the endpoint showing it under the table's own key, whose cache
  // rows the capture can reload after a restart.
  std::vector<std::optional<size_t>> MirrorSinks(const SourceNode& node) const;
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pipeline::~Pipeline() {
  RequestStop();
  (void)Wait();
}

Result<std::unique_ptr<Pipeline>> Pipeline::Build(const Config& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  const Config& cfg = impl->config;
  // Sources to read: every one when there is SQL, else those endpoints show. The tables of a
  // postgres connection share one capture (one replication slot); other sources have their own.
  std::vector<const SourceConfig*> used;
  for (const SourceConfig& s : cfg.sources) {
    bool shown = std::any_of(cfg.endpoints.begin(), cfg.endpoints.end(),
                             [&](const EndpointConfig& e) { return e.table == s.name; });
    if (!cfg.sql.empty() || shown) {
      used.push_back(&s);
    } else {
      spdlog::warn("{}: source '{}' is not used by any endpoint or statement; it will not be read",
                   s.location.ToString(), s.name);
    }
  }
  std::map<std::string, std::pair<size_t, size_t>> source_index;  // name -> node, table
  std::map<std::string, size_t> postgres_node;                    // connection -> node
  std::vector<std::vector<const SourceConfig*>> node_sources;
  for (const SourceConfig* s : used) {
    const ConnectionConfig* connection = cfg.FindConnection(s->connection);
    size_t node;
    if (auto it = postgres_node.find(connection->name); it != postgres_node.end()) {
      node = it->second;
    } else {
      node = impl->sources.size();
      impl->sources.push_back(std::make_unique<Impl::SourceNode>());
      impl->sources[node]->connection = connection;
      node_sources.emplace_back();
      if (connection->kind == ConnectionKind::kPostgres) {
        postgres_node[connection->name] = node;
        impl->sources[node]->name = connection->name;
      } else {
        impl->sources[node]->name = s->name;
      }
    }
    source_index[s->name] = {node, impl->sources[node]->tables.size()};
    impl->sources[node]->tables.push_back(Impl::SourceTable{s, {}, false});
    node_sources[node].push_back(s);
  }
  for (size_t node = 0; node < impl->sources.size(); ++node) {
    auto& n = *impl->sources[node];
    ASSIGN_OR_RETURN(n.reader, OpenCapture(cfg, *n.connection, node_sources[node]));
  }
  auto schema_of = [&](const std::string& source) -> const Schema& {
    auto [node, table] = source_index.at(source);
    return impl->sources[node]->reader->schemas()[table];
  };
  auto lineage_of = [&](const std::string& source) {
    auto [node, table] = source_index.at(source);
    const auto& n = *impl->sources[node];
    return Lineage(*n.connection, *n.tables[table].config);
  };

  // SQL: every source is a table statements may read; each INTO table is one more.
  if (!cfg.sql.empty()) {
    TableCatalog catalog;
    for (const SourceConfig* s : used) catalog[s->name] = schema_of(s->name);
    auto plans = BindSqlScript(cfg.sql, cfg.sql_line, catalog, cfg.sql_indent);
    if (!plans.ok()) {
      return Status(plans.status().code() == StatusCode::kUnimplemented
                        ? StatusCode::kInvalidArgument
                        : plans.status().code(),
                    cfg.file + ": sql: " + plans.status().message());
    }
    impl->sql = std::make_unique<DataflowGraph>(std::move(*plans));
    DataflowGraph& graph = *impl->sql;
    for (size_t i = 0; i < graph.statement_count(); ++i) {
      std::string lineage;
      for (const std::string& table : graph.plan(i).InputTables()) {
        if (auto up = graph.StatementOf(table)) {
          lineage += impl->lineage[*up] + " ; ";
        } else {
          auto [node, index] = source_index.at(table);
          impl->sources[node]->tables[index].read_by_sql = true;
          lineage += lineage_of(table) + " ; ";
        }
      }
      impl->lineage.push_back(lineage + " | " + graph.plan(i).Describe());
    }
  }

  for (const EndpointConfig& endpoint : cfg.endpoints) {
    Schema schema;
    const size_t sink_index = impl->sinks.size();
    std::string lineage;
    std::optional<size_t> statement;
    if (impl->sql) statement = impl->sql->StatementOf(endpoint.table);
    if (statement) {
      schema = impl->sql->plan(*statement).output_schema;
      lineage = impl->lineage[*statement];
      Impl* d = impl.get();
      impl->sql->AttachOutput(
          *statement, {[d, sink_index](FlowBatch b) {
                         return d->sinks[sink_index].input->Push(SinkInput{false, 0, std::move(b)});
                       },
                       [d, sink_index] { d->sinks[sink_index].input->Close(); },
                       [d, sink_index](uint64_t epoch) {
                         return d->sinks[sink_index].input->Push(SinkInput{true, epoch, {}});
                       }});
    } else if (source_index.count(endpoint.table)) {
      auto [node, index] = source_index.at(endpoint.table);
      schema = schema_of(endpoint.table);
      lineage = lineage_of(endpoint.table);
      impl->sources[node]->tables[index].sinks.push_back(sink_index);
    } else {
      return endpoint.location.Error("table '" + endpoint.table +
                                     "' is neither a source nor a table made by sql");
    }
    if (endpoint.primary_key) {
      auto key = schema.ResolveColumns(*endpoint.primary_key);
      if (!key.ok()) return endpoint.location.Error("primary_key: " + key.status().message());
      schema.primary_key = *key;
    }
    ASSIGN_OR_RETURN(std::vector<IndexDefinition> indexes, ResolveIndexes(endpoint, schema));
    impl->sinks.push_back(Impl::SinkNode{
        &endpoint, std::move(schema), std::move(lineage), std::move(indexes), nullptr, {}});
  }
  impl->served_sinks = impl->sinks.size();
  // A postgres table that only SQL reads gets a hidden mirror: after a restart the capture
  // reloads its rows from there (for unchanged TOAST values and key-only deletes).
  for (auto& node : impl->sources) {
    if (node->connection->kind != ConnectionKind::kPostgres) continue;
    const auto mirrors = impl->MirrorSinks(*node);
    for (size_t t = 0; t < node->tables.size(); ++t) {
      if (mirrors[t] || !node->tables[t].read_by_sql) continue;
      const SourceConfig& source = *node->tables[t].config;
      EndpointConfig& hidden = impl->hidden_endpoints.emplace_back();
      hidden.name = "#source:" + source.name;
      hidden.table = source.name;
      hidden.location = source.location;
      node->tables[t].sinks.push_back(impl->sinks.size());
      impl->sinks.push_back(Impl::SinkNode{
          &hidden, node->reader->schemas()[t], lineage_of(source.name), {}, nullptr, {}});
    }
  }
  if (impl->sql && !cfg.sql_checkpoints) {
    impl->replay_at_start = !impl->sql->StatefulStages().empty();
  } else if (impl->sql) {
    impl->stateful = impl->sql->StatefulStages();
    for (size_t i = 0; i < impl->stateful.size(); ++i) {
      const auto [statement, stage] = impl->stateful[i];
      impl->state_layout += std::to_string(statement) + "." + std::to_string(stage) + " " +
                            impl->sql->operators(statement).stages[stage]->name() + " of " +
                            impl->lineage[statement] + "\n";
    }
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

std::vector<std::optional<size_t>> Pipeline::Impl::MirrorSinks(const SourceNode& node) const {
  std::vector<std::optional<size_t>> out;
  for (size_t t = 0; t < node.tables.size(); ++t) {
    const Schema& schema = node.reader->schemas()[t];
    std::optional<size_t> found;
    for (size_t sink : node.tables[t].sinks) {
      if (sinks[sink].schema.primary_key == schema.primary_key) {
        found = sink;
      }
    }
    out.push_back(found);
  }
  return out;
}

Result<bool> Pipeline::CanResume(const CacheStore& store) const {
  if (impl_->replay_at_start) return false;
  std::vector<std::string> positions;
  bool committed = false;
  for (const auto& node : impl_->sources) {
    ASSIGN_OR_RETURN(positions.emplace_back(), store.Position(node->reader->position_key()));
    committed = committed || !positions.back().empty();
  }
  if (!impl_->stateful.empty() && committed) {
    // Results of stateful SQL were committed: only checkpoints of these very stages continue
    // them (a cache written before checkpoints existed is rebuilt).
    ASSIGN_OR_RETURN(std::optional<std::string> layout, store.GetMeta(kOperatorStateMeta));
    if (layout != impl_->state_layout) return false;
  }
  for (size_t n = 0; n < impl_->sources.size(); ++n) {
    const auto& node = impl_->sources[n];
    const std::string& position = positions[n];
    std::vector<bool> mirrored;
    for (const auto& sink : impl_->MirrorSinks(*node)) mirrored.push_back(sink.has_value());
    if (!node->reader->CanResume(position, mirrored)) return false;
  }
  return true;
}

std::vector<TableDefinition> Pipeline::TableDefinitions() const {
  std::vector<TableDefinition> out;
  for (const auto& sink : impl_->sinks)
    out.push_back({sink.config->name, sink.schema, sink.lineage, sink.indexes});
  return out;
}

void Pipeline::SetChangeLog(AppLog* log) { impl_->log = log; }

uint32_t Pipeline::served_tables() const { return uint32_t(impl_->served_sinks); }

std::vector<RestEndpoint> Pipeline::RestEndpoints() const {
  std::vector<RestEndpoint> out;
  for (size_t i = 0; i < impl_->served_sinks; ++i) {
    const auto& sink = impl_->sinks[i];
    out.push_back(
        {sink.config->name, sink.config->path, sink.config->table, sink.schema, uint32_t(i)});
  }
  return out;
}

std::string Pipeline::Describe() const {
  std::string out =
      "app " + impl_->config.app_name + " (home_dir " + impl_->config.home_dir + ")\n";
  for (const auto& source : impl_->sources) {
    const ConnectionConfig& c = *source->connection;
    for (const Impl::SourceTable& t : source->tables) {
      out += "source " + t.config->name + " <- connection " + c.name + " (";
      if (c.kind == ConnectionKind::kGenerator) {
        out += "generator " + c.generator.dataset + " table " + t.config->table + ", " +
               (c.generator.events ? std::to_string(c.generator.events) + " events" : "unbounded") +
               ", seed " + std::to_string(c.generator.seed) + ")\n";
      } else if (c.kind == ConnectionKind::kPostgres) {
        out += "postgres table " + t.config->table + ")\n";
      } else {
        out += std::string("files ") + (c.files.format == FileFormat::kCsv ? "csv" : "jsonl") +
               " " + c.files.path + "/" + t.config->table + ")\n";
      }
    }
    size_t consumers = 0;
    for (const Impl::SourceTable& t : source->tables) {
      consumers += t.sinks.size() + (t.read_by_sql ? 1 : 0);
    }
    out += "  thread: source node " + source->name + " -> " + std::to_string(consumers) +
           " consumer(s)\n";
  }
  for (size_t i = 0; impl_->sql && i < impl_->sql->statement_count(); ++i) {
    out += impl_->sql->plan(i).Describe();
    out += "  threads: one per operator:";
    for (const auto& stage : impl_->sql->operators(i).stages) {
      out += std::string(" [") + stage->name() + "]";
    }
    out += "\n";
  }
  for (size_t i = 0; i < impl_->served_sinks; ++i) {
    const auto& sink = impl_->sinks[i];
    out += "endpoint " + sink.config->name + " " + sink.config->path + " <- " + sink.config->table;
    out += sink.schema.has_primary_key() ? "  key (" : "  multiset (no key)\n";
    if (sink.schema.has_primary_key()) {
      for (size_t k = 0; k < sink.schema.primary_key.size(); ++k) {
        out += (k ? ", " : "") + sink.schema.fields[sink.schema.primary_key[k]].name;
      }
      out += ")\n";
    }
    for (const Field& f : sink.schema.fields) {
      out += "    " + f.name + " " + std::string(FieldTypeName(f.type)) +
             (f.nullable ? "" : " not null") + "\n";
    }
  }
  for (size_t i = impl_->served_sinks; i < impl_->sinks.size(); ++i) {
    out += "hidden cache table " + impl_->sinks[i].config->name +
           " (rows the capture reloads after a restart)\n";
  }
  if (!impl_->stateful.empty()) {
    out += "operator checkpoints: the input rows of " + std::to_string(impl_->stateful.size()) +
           " stateful stage(s), committed with each epoch\n";
  }
  out += "cache writer: one LMDB transaction per commit, positions stored with the data\n";
  out +=
      "rest: " + impl_->config.api.host + ":" + std::to_string(impl_->config.api.rest_port) + "\n";
  return out;
}

Status Pipeline::Start(CacheStore* store) {
  Impl& d = *impl_;
  d.store = store;
  d.started_at = std::chrono::steady_clock::now();
  std::vector<std::string> positions;
  for (const auto& source : d.sources) {
    ASSIGN_OR_RETURN(std::string p, store->Position(source->reader->position_key()));
    positions.push_back(std::move(p));
  }
  d.open_lanes = d.sinks.size() + d.stateful.size();
  for (auto& sink : d.sinks) {
    sink.input = std::make_unique<BoundedChannel<SinkInput>>(kSinkChannelBatches);
  }
  if (d.open_lanes == 0) d.writer_input.Close();
  if (!d.stateful.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> layout, store->GetMeta(kOperatorStateMeta));
    d.wrote_layout = layout == d.state_layout;
    if (d.wrote_layout) RETURN_IF_ERROR(d.RestoreState(*store));
    d.sql->SetCheckpointSink(
        [&d](DataflowGraph::StageCheckpoint c) { return d.Checkpoint(std::move(c)); });
  }
  d.writer = std::thread([&d] { d.RunWriter(); });
  for (size_t i = 0; i < d.sinks.size(); ++i) {
    d.sinks[i].thread = std::thread([&d, i] { d.RunSink(i); });
  }
  if (d.sql) {
    d.sql->Start([&d](const BoundSelect& plan, const char* stage, const Status& s) {
      // A runtime failure, not a config error: `sluice run` exits 1, not 2.
      d.Fail(FailedPrecondition("sql statement at " + plan.location + " (INTO " + plan.into +
                                ") failed: " + s.message()));
      spdlog::error(
          "sql statement at {} (INTO {}) failed in its {} operator: {}; stopping the pipeline",
          plan.location, plan.into, stage, s.message());
    });
  }
  for (size_t i = 0; i < d.sources.size(); ++i) {
    d.sources[i]->last_position = positions[i];
    d.sources[i]->thread = std::thread([&d, i, p = positions[i]] { d.RunSource(i, p); });
  }
  d.epoch_thread = std::thread([&d] { d.RunEpochs(); });
  return Status::OK();
}

bool Pipeline::Impl::Deliver(const SourceTable& table, const FlowBatch& batch) {
  for (size_t sink : table.sinks) {
    if (!sinks[sink].input->Push(SinkInput{false, 0, batch})) return false;
  }
  return !table.read_by_sql || sql->Push(table.config->name, batch);
}

bool Pipeline::Impl::DeliverBarrier(const SourceTable& table, uint64_t epoch) {
  for (size_t sink : table.sinks) {
    if (!sinks[sink].input->Push(SinkInput{true, epoch, {}})) return false;
  }
  return !table.read_by_sql || sql->PushBarrier(table.config->name, epoch);
}

void Pipeline::Impl::InjectBarrier(uint64_t epoch) {
  {
    std::lock_guard lock(epochs_mu);
    EpochInfo& info = epochs[epoch];
    info.positions.resize(sources.size());
    info.rows.resize(sources.size());
  }
  for (size_t s = 0; s < sources.size(); ++s) {
    SourceNode& node = *sources[s];
    std::lock_guard emit_lock(node.emit_mu);
    {
      std::lock_guard lock(epochs_mu);
      EpochInfo& info = epochs[epoch];
      info.positions[s] = node.last_position;
      info.rows[s] = node.rows_since_epoch;
    }
    node.rows_since_epoch = 0;
    if (node.finished) continue;
    for (const SourceTable& t : node.tables) {
      if (!DeliverBarrier(t, epoch)) break;  // shutting down
    }
  }
  std::lock_guard lock(epochs_mu);
  epochs[epoch].complete = true;
}

void Pipeline::Impl::RunEpochs() {
  uint64_t epoch = 0;
  auto all_done = [&] {
    for (const auto& node : sources) {
      if (!node->finished) return false;
    }
    return true;
  };
  while (!all_done()) {
    std::this_thread::sleep_for(kEpochInterval);
    if (emitted_since_barrier.exchange(false)) InjectBarrier(++epoch);
  }
}

void Pipeline::Impl::Fail(const Status& status) {
  {
    std::lock_guard lock(error_mu);
    if (fatal_error.ok()) fatal_error = status;
  }
  stop.request_stop();
}

void Pipeline::Impl::RunSource(size_t index, std::string start_position) {
  SourceNode& node = *sources[index];
  uint64_t seq = 0;
  CaptureContext context;
  context.start_position = start_position;
  context.stop = stop.get_token();
  context.emit = [&](std::vector<std::vector<Operation>> tables, std::string position) {
    uint64_t rows = 0;
    for (const auto& t : tables) rows += t.size();
    std::lock_guard lock(node.emit_mu);
    const uint64_t batch_seq = seq++;
    for (size_t t = 0; t < node.tables.size(); ++t) {
      auto batch = std::make_shared<OperationBatch>();
      if (t < tables.size()) batch->ops = std::move(tables[t]);
      batch->position = position;
      if (!Deliver(node.tables[t], FlowBatch{index, batch_seq, std::move(batch), rows})) {
        return false;
      }
    }
    node.last_position = std::move(position);
    node.rows_since_epoch += rows;
    node.emitted_rows += rows;
    emitted_since_barrier = true;
    return true;
  };
  context.caught_up = [&node] {
    std::lock_guard lock(node.emit_mu);
    if (!node.caught_up_rows) node.caught_up_rows = node.emitted_rows;
  };
  context.durable_position = [&node] {
    std::lock_guard lock(node.durable_mu);
    return node.durable_position;
  };
  const auto mirrors = MirrorSinks(node);
  context.load_rows = [&](size_t table,
                          const std::function<void(std::string_view, std::string_view)>& visit) {
    if (table >= mirrors.size() || !mirrors[table]) {
      return Internal("no endpoint mirrors table " + node.tables[table].config->name);
    }
    ASSIGN_OR_RETURN(ReadView view, store->BeginRead());
    return view.ScanEntries(uint32_t(*mirrors[table]),
                            [&](std::string_view key, std::string_view row) {
                              visit(key, row);
                              return true;
                            });
  };
  // An empty first batch lets statements publish their initial output (the one row of an
  // aggregate without GROUP BY) even when the source has nothing to say.
  Status s = context.emit({}, start_position) ? node.reader->Run(context) : Status::OK();
  if (!s.ok()) {
    node.failed = true;
    spdlog::error("source '{}' stopped: {}", node.name, s.message());
  }
  {
    std::lock_guard lock(node.emit_mu);
    node.finished = true;
    if (!node.caught_up_rows) node.caught_up_rows = node.emitted_rows;
  }
  for (const SourceTable& t : node.tables) {
    for (size_t sink : t.sinks) sinks[sink].input->Close();
    if (t.read_by_sql) sql->CloseInput(t.config->name);
  }
}

void Pipeline::Impl::EncodeInto(const SinkNode& sink, const OperationBatch& batch,
                                TableChanges& out) {
  const Schema& schema = sink.schema;
  const bool keyed = schema.has_primary_key();
  std::string key, old_key, row;
  for (const Operation& op : batch.ops) {
    const bool has_old = op.kind != OpKind::kInsert;
    const bool has_new = op.kind != OpKind::kDelete;
    if (!keyed) {
      if (has_old) {
        row.clear();
        EncodeRow(schema, op.old_record, &row);
        out.RemoveCopy(row);
      }
      if (has_new) {
        row.clear();
        EncodeRow(schema, op.new_record, &row);
        out.AddCopy(row);
      }
      continue;
    }
    if (has_old) {
      old_key.clear();
      EncodeKey(schema, op.old_record, schema.primary_key, &old_key);
    }
    if (has_new) {
      key.clear();
      EncodeKey(schema, op.new_record, schema.primary_key, &key);
    }
    // An update that keeps its key is one overwrite; one that changes it moves the row.
    if (has_old && !(has_new && key == old_key)) out.Remove(old_key);
    if (has_new) {
      row.clear();
      EncodeRow(schema, op.new_record, &row);
      out.Upsert(key, row);
    }
  }
}

void Pipeline::Impl::RunSink(size_t index) {
  SinkNode& sink = sinks[index];
  while (auto item = sink.input->Pop()) {
    WriterItem out{index, item->barrier ? WriterItem::kBarrier : WriterItem::kChanges, item->epoch,
                   TableChanges(uint32_t(index))};
    if (!item->barrier) {
      // A value of the wrong type here is a bug upstream; it must stop this pipeline with a
      // message naming the table, not abort the process (and every API with it).
      try {
        EncodeInto(sink, *item->batch.batch, out.changes);
      } catch (const std::exception& e) {
        Fail(Internal("table '" + sink.config->table +
                      "': internal error writing a row: " + e.what()));
        sink.input->Close();
        break;
      }
    }
    if (!writer_input.Push(std::move(out))) {
      sink.input->Close();  // the writer failed: make the source stop too
      break;
    }
  }
  EndLane(index);
}

void Pipeline::Impl::EndLane(size_t lane) {
  (void)writer_input.Push(WriterItem{lane, WriterItem::kEnd});
  if (--open_lanes == 0) writer_input.Close();
}

bool Pipeline::Impl::Checkpoint(DataflowGraph::StageCheckpoint checkpoint) {
  const auto at = std::find(stateful.begin(), stateful.end(),
                            std::pair(checkpoint.statement, checkpoint.stage));
  const size_t lane = sinks.size() + size_t(at - stateful.begin());
  WriterItem item{lane, WriterItem::kState, checkpoint.epoch};
  item.state.statement = uint32_t(checkpoint.statement);
  item.state.stage = uint32_t(checkpoint.stage);
  item.state.rows.reserve(checkpoint.rows.size());
  for (auto& r : checkpoint.rows) {
    std::string row;
    EncodeTaggedRecord(r.row, &row);
    item.state.rows.push_back({uint8_t(r.side), std::move(row), r.weight});
  }
  bool delivered = writer_input.Push(std::move(item));
  if (checkpoint.final) {
    EndLane(lane);
  } else {
    delivered =
        delivered && writer_input.Push(WriterItem{lane, WriterItem::kBarrier, checkpoint.epoch});
  }
  return delivered;
}

Status Pipeline::Impl::RestoreState(const CacheStore& store) {
  const auto began = std::chrono::steady_clock::now();
  // Stages restore independently of each other: one thread each.
  std::vector<Status> results(stateful.size());
  std::vector<uint64_t> restored_rows(stateful.size(), 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stateful.size(); ++i) {
    threads.emplace_back([&, i] {
      const auto [statement, stage] = stateful[i];
      std::vector<Operation> rows[2];
      auto flush = [&](int side) {
        Status s = sql->Restore(statement, stage, side, rows[side]);
        rows[side].clear();
        return s;
      };
      Status s = flush(0);
      if (s.ok()) {
        s = store.ScanOperatorState(
            uint32_t(statement), uint32_t(stage),
            [&](uint8_t side, std::string_view bytes, int64_t weight) -> Status {
              if (side > 1) {
                return DataLoss("operator checkpoint names input side " + std::to_string(side));
              }
              ASSIGN_OR_RETURN(Record row, DecodeTaggedRecord(bytes));
              // The stored changes in commit order: copies added, or removed again.
              const int64_t copies = weight < 0 ? -weight : weight;
              restored_rows[i] += uint64_t(copies);
              for (int64_t c = 0; c < copies; ++c) {
                rows[side].push_back(weight < 0 ? Operation::Delete(row) : Operation::Insert(row));
              }
              return rows[side].size() >= kRestoreChunk ? flush(side) : Status::OK();
            });
      }
      for (int side = 0; side < 2 && s.ok(); ++side) s = flush(side);
      results[i] = s;
    });
  }
  for (auto& t : threads) t.join();
  uint64_t total = 0;
  for (size_t i = 0; i < stateful.size(); ++i) {
    RETURN_IF_ERROR(results[i]);
    total += restored_rows[i];
  }
  spdlog::info("restored the state of {} sql operator(s) from {} checkpointed changes in {:.2f} s",
               stateful.size(), total,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  return Status::OK();
}

void Pipeline::Impl::PublishDurable(const std::vector<std::string>& positions) {
  for (size_t s = 0; s < sources.size(); ++s) {
    std::lock_guard lock(sources[s]->durable_mu);
    sources[s]->durable_position = positions[s];
  }
}

void Pipeline::Impl::RunWriter() {
  // Per sink, what arrived and is not committed yet, in order. Epoch e commits once every sink
  // has delivered e's barrier (or ended) and every source has been recorded for e: everything
  // before the barriers, with the sources' positions at e, in one LMDB transaction.
  const size_t lanes = sinks.size() + stateful.size();
  std::vector<std::deque<WriterItem>> queued(lanes);
  uint64_t next_epoch = 1;
  std::vector<std::string> committed_position(sources.size());
  // fsync happens on the syncer's thread; it tells readers what became durable.
  // With a synced change log, the log's fsync is what makes a commit durable.
  const bool log_syncs = log && log->syncs();
  CacheSyncer syncer(
      *store, kSyncInterval,
      [this, log_syncs](const std::vector<std::string>& durable) {
        if (!log_syncs) PublishDurable(durable);
      },
      [this](const Status& s) {
        spdlog::error("cache sync failed: {}", s.ToString());
        Fail(s);
        writer_input.Close();
      });

  // Moves each sink's changes up to epoch `epoch`'s barrier (all of them when `epoch` is 0)
  // into `commit`.
  auto take = [&](uint64_t epoch, CommitBatch& commit) {
    for (auto& queue : queued) {
      while (!queue.empty()) {
        WriterItem item = std::move(queue.front());
        queue.pop_front();
        if (item.kind == WriterItem::kChanges) {
          commit.tables.push_back(std::move(item.changes));
        } else if (item.kind == WriterItem::kState) {
          commit.state.push_back(std::move(item.state));
        } else if (item.kind == WriterItem::kBarrier && item.epoch == epoch) {
          break;
        } else if (item.kind == WriterItem::kEnd) {
          queue.push_front(std::move(item));  // stays: the sink has ended
          break;
        }
      }
    }
  };
  // Per sink: the last barrier queued, and whether it has ended (then it holds back nothing).
  std::vector<uint64_t> last_barrier(lanes, 0);
  std::vector<bool> ended(lanes, false);
  auto commit = [&](CommitBatch& batch, const std::vector<std::string>& positions,
                    const std::vector<uint64_t>& rows) -> Status {
    for (size_t s = 0; s < sources.size(); ++s) {
      batch.positions.emplace_back(sources[s]->reader->position_key(), positions[s]);
    }
    if (!stateful.empty() && !wrote_layout)
      batch.meta.emplace_back(kOperatorStateMeta, state_layout);
    if (log) {
      ASSIGN_OR_RETURN(bool durable, log->Append(batch));
      if (durable) PublishDurable(positions);
    }
    RETURN_IF_ERROR(store->Commit(batch));
    wrote_layout = true;
    for (size_t s = 0; s < sources.size(); ++s) sources[s]->committed_rows += rows[s];
    committed_position = positions;
    syncer.Committed(committed_position);
    return Status::OK();
  };

  // Group commit (log.fsync: <interval>): the log is synced on a timer, then everything
  // committed so far is durable.
  auto sync_log = [&](bool force) -> Status {
    if (!log) return Status::OK();
    ASSIGN_OR_RETURN(bool synced, log->SyncIfDue(force));
    if (synced) PublishDurable(committed_position);
    return Status::OK();
  };
  auto next_retention = std::chrono::steady_clock::now() + kRetentionInterval;
  Status status;
  while (status.ok()) {
    status = sync_log(false);
    if (log && status.ok() && std::chrono::steady_clock::now() >= next_retention) {
      status = log->ApplyRetention();
      next_retention = std::chrono::steady_clock::now() + kRetentionInterval;
    }
    if (!status.ok()) break;
    auto item = writer_input.PopFor(kEpochInterval);
    if (item) {
      if (item->kind == WriterItem::kBarrier) last_barrier[item->lane] = item->epoch;
      if (item->kind == WriterItem::kEnd) ended[item->lane] = true;
      queued[item->lane].push_back(std::move(*item));
    }
    while (status.ok()) {
      EpochInfo info;
      {
        std::lock_guard lock(epochs_mu);
        auto it = epochs.find(next_epoch);
        if (it == epochs.end() || !it->second.complete) break;
        info = it->second;
      }
      bool ready = true;
      for (size_t k = 0; k < lanes; ++k) {
        ready = ready && (ended[k] || last_barrier[k] >= next_epoch);
      }
      if (!ready) break;
      CommitBatch batch;
      batch.epoch = next_epoch;
      take(next_epoch, batch);
      status = commit(batch, info.positions, info.rows);
      std::lock_guard lock(epochs_mu);
      epochs.erase(next_epoch++);
    }
    if (!item && writer_input.closed_and_empty()) break;
  }
  if (status.ok()) {
    // Every sink has ended: what follows the last epoch, with where each source ended.
    CommitBatch batch;
    batch.epoch = next_epoch;
    take(0, batch);
    std::vector<std::string> positions(sources.size());
    std::vector<uint64_t> rows(sources.size());
    for (size_t s = 0; s < sources.size(); ++s) {
      std::lock_guard lock(sources[s]->emit_mu);
      positions[s] = sources[s]->last_position;
      rows[s] = sources[s]->rows_since_epoch;
      sources[s]->rows_since_epoch = 0;
    }
    status = commit(batch, positions, rows);
  }
  if (status.ok()) status = sync_log(true);
  Status synced = syncer.Finish();
  if (status.ok()) status = synced;
  if (!status.ok()) {
    spdlog::error("cache writer stopped: {}", status.ToString());
    Fail(status);
    writer_input.Close();
  }
  finished_after_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - started_at)
                          .count();
  writer_done = true;
}

void Pipeline::RequestStop() { impl_->stop.request_stop(); }

Status Pipeline::Wait() {
  Impl& d = *impl_;
  for (auto& source : d.sources) {
    if (source->thread.joinable()) source->thread.join();
  }
  if (d.sql) d.sql->Join();
  if (d.epoch_thread.joinable()) d.epoch_thread.join();
  for (auto& sink : d.sinks) {
    if (sink.thread.joinable()) sink.thread.join();
  }
  if (d.writer.joinable()) d.writer.join();
  std::lock_guard lock(d.error_mu);
  return d.fatal_error;
}

double Pipeline::elapsed_seconds() const {
  int64_t ns = impl_->finished_after_ns.load();
  if (ns >= 0) return double(ns) / 1e9;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->started_at)
      .count();
}

bool Pipeline::idle() const { return impl_->writer_done.load(); }

bool Pipeline::caught_up() const {
  for (const auto& node : impl_->sources) {
    std::lock_guard lock(node->emit_mu);
    if (!node->caught_up_rows || node->committed_rows.load() < *node->caught_up_rows) return false;
  }
  return true;
}

std::vector<SourceStats> Pipeline::stats() const {
  std::vector<SourceStats> out;
  for (const auto& s : impl_->sources) {
    out.push_back({s->name, s->committed_rows.load(), s->finished.load(), s->failed.load()});
  }
  return out;
}

}  // namespace sluice
