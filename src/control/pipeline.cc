#include "control/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "common/bounded_channel.h"
#include "control/cache_syncer.h"
#include "dataflow/dataflow_graph.h"
#include "sql/binder.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

constexpr size_t kSinkChannelBatches = 8;
constexpr size_t kWriterChannelBatches = 16;
constexpr size_t kMaxChangesPerCommit = 256 * 1024;
// Bounds how stale the cache may be behind a committed source change (freshness).
constexpr auto kMaxCommitDelay = std::chrono::milliseconds(10);
constexpr auto kSyncInterval = std::chrono::milliseconds(1000);

// A batch on its way from a source to sinks, possibly through SQL statements, is a FlowBatch:
// it keeps the source's index (origin) and sequence number so the writer can commit it as one
// unit once every path from the source has delivered it.

struct EncodedBatch {
  size_t source;
  uint64_t seq;
  std::shared_ptr<const OperationBatch> origin;
  uint64_t source_rows;
  TableChanges changes;
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
    size_t expected_deliveries = 0;  // table -> sink paths: batches the writer waits for
    std::mutex durable_mu;
    std::string durable_position;  // committed and synced: what the reader may acknowledge
    std::thread thread;
    std::atomic<uint64_t> committed_rows{0};
    std::atomic<bool> finished{false};
    std::atomic<bool> failed{false};
  };
  struct SinkNode {
    const EndpointConfig* config;
    Schema schema;
    std::string lineage;
    std::unique_ptr<BoundedChannel<FlowBatch>> input;
    std::thread thread;
  };
  struct Pending {
    std::string position;
    uint64_t source_rows = 0;
    std::vector<TableChanges> changes;
  };

  Config config;
  std::vector<std::unique_ptr<SourceNode>> sources;
  std::unique_ptr<DataflowGraph> sql;  // null without a sql: section
  std::vector<std::string> lineage;    // per statement
  std::vector<SinkNode> sinks;
  BoundedChannel<EncodedBatch> writer_input{kWriterChannelBatches};
  std::atomic<size_t> open_sinks{0};
  std::thread writer;
  std::stop_source stop;
  CacheStore* store = nullptr;
  std::atomic<bool> writer_done{false};
  std::chrono::steady_clock::time_point started_at;
  std::atomic<int64_t> finished_after_ns{-1};
  std::mutex error_mu;
  Status fatal_error;  // first of: cache write failure, SQL runtime error

  void RunSource(size_t index, std::string start_position);
  void RunSink(size_t index);
  void RunWriter();
  void EncodeInto(const SinkNode& sink, const OperationBatch& batch, TableChanges& out);
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
          *statement,
          {[d, sink_index](FlowBatch b) { return d->sinks[sink_index].input->Push(std::move(b)); },
           [d, sink_index] { d->sinks[sink_index].input->Close(); }});
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
    impl->sinks.push_back(
        Impl::SinkNode{&endpoint, std::move(schema), std::move(lineage), nullptr, {}});
  }
  for (auto& source : impl->sources) {
    for (const Impl::SourceTable& t : source->tables) {
      source->expected_deliveries += t.sinks.size();
      if (impl->sql) source->expected_deliveries += impl->sql->OutputPaths(t.config->name);
    }
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

bool Pipeline::needs_full_replay() const {
  if (!impl_->sql) return false;
  for (size_t i = 0; i < impl_->sql->statement_count(); ++i) {
    if (impl_->sql->plan(i).stateful()) return true;
  }
  return false;
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
  for (const auto& node : impl_->sources) {
    ASSIGN_OR_RETURN(std::string position, store.Position(node->reader->position_key()));
    std::vector<bool> mirrored;
    for (const auto& sink : impl_->MirrorSinks(*node)) mirrored.push_back(sink.has_value());
    if (!node->reader->CanResume(position, mirrored)) return false;
  }
  return true;
}

std::vector<TableDefinition> Pipeline::TableDefinitions() const {
  std::vector<TableDefinition> out;
  for (const auto& sink : impl_->sinks)
    out.push_back({sink.config->name, sink.schema, sink.lineage});
  return out;
}

std::vector<RestEndpoint> Pipeline::RestEndpoints() const {
  std::vector<RestEndpoint> out;
  for (size_t i = 0; i < impl_->sinks.size(); ++i) {
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
  for (const auto& sink : impl_->sinks) {
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
  d.open_sinks = d.sinks.size();
  for (auto& sink : d.sinks) {
    sink.input = std::make_unique<BoundedChannel<FlowBatch>>(kSinkChannelBatches);
  }
  if (d.sinks.empty()) d.writer_input.Close();
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
    d.sources[i]->thread = std::thread([&d, i, p = positions[i]] { d.RunSource(i, p); });
  }
  return Status::OK();
}

bool Pipeline::Impl::Deliver(const SourceTable& table, const FlowBatch& batch) {
  for (size_t sink : table.sinks) {
    if (!sinks[sink].input->Push(batch)) return false;
  }
  return !table.read_by_sql || sql->Push(table.config->name, batch);
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
    const uint64_t batch_seq = seq++;
    for (size_t t = 0; t < node.tables.size(); ++t) {
      auto batch = std::make_shared<OperationBatch>();
      if (t < tables.size()) batch->ops = std::move(tables[t]);
      batch->position = position;
      if (!Deliver(node.tables[t], FlowBatch{index, batch_seq, std::move(batch), rows})) {
        return false;
      }
    }
    return true;
  };
  context.durable_position = [&node] {
    std::lock_guard lock(node.durable_mu);
    return node.durable_position;
  };
  const auto mirrors = MirrorSinks(node);
  context.load_rows = [&](size_t table) -> Result<std::vector<Record>> {
    if (table >= mirrors.size() || !mirrors[table]) {
      return Internal("no endpoint mirrors table " + node.tables[table].config->name);
    }
    const size_t sink = *mirrors[table];
    std::vector<Record> rows;
    ASSIGN_OR_RETURN(ReadView view, store->BeginRead());
    Status decoded;
    RETURN_IF_ERROR(view.Scan(uint32_t(sink), [&](std::string_view bytes, uint64_t copies) {
      auto row = DecodeRow(sinks[sink].schema, bytes);
      if (!row.ok()) {
        decoded = row.status();
        return false;
      }
      for (uint64_t i = 0; i < copies; ++i) rows.push_back(*row);
      return true;
    }));
    RETURN_IF_ERROR(decoded);
    return rows;
  };
  // An empty first batch lets statements publish their initial output (the one row of an
  // aggregate without GROUP BY) even when the source has nothing to say.
  Status s = context.emit({}, start_position) ? node.reader->Run(context) : Status::OK();
  if (!s.ok()) {
    node.failed = true;
    spdlog::error("source '{}' stopped: {}", node.name, s.message());
  }
  node.finished = true;
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
    EncodedBatch encoded{item->origin, item->seq, item->batch, item->origin_rows,
                         TableChanges(uint32_t(index))};
    EncodeInto(sink, *item->batch, encoded.changes);
    if (!writer_input.Push(std::move(encoded))) {
      sink.input->Close();  // the writer failed: make the source stop too
      break;
    }
  }
  if (--open_sinks == 0) writer_input.Close();
}

void Pipeline::Impl::RunWriter() {
  // Per source: batches by sequence number, held until every endpoint has encoded them.
  std::vector<std::map<uint64_t, Pending>> pending(sources.size());
  CommitBatch commit;
  std::vector<std::string> position(sources.size());
  std::vector<bool> position_dirty(sources.size(), false);
  std::vector<std::string> committed_position(sources.size());  // in LMDB, maybe not synced
  std::vector<uint64_t> uncommitted_rows(sources.size(), 0);
  size_t changes_in_commit = 0;
  bool have_uncommitted = false;
  auto oldest_uncommitted = std::chrono::steady_clock::now();
  // fsync happens on the syncer's thread; it tells readers what became durable.
  CacheSyncer syncer(
      *store, kSyncInterval,
      [this](const std::vector<std::string>& durable) {
        for (size_t s = 0; s < sources.size(); ++s) {
          std::lock_guard lock(sources[s]->durable_mu);
          sources[s]->durable_position = durable[s];
        }
      },
      [this](const Status& s) {
        spdlog::error("cache sync failed: {}", s.ToString());
        Fail(s);
        writer_input.Close();
      });

  auto flush = [&]() -> Status {
    if (!have_uncommitted) return Status::OK();
    for (size_t s = 0; s < sources.size(); ++s) {
      if (position_dirty[s]) {
        commit.positions.emplace_back(sources[s]->reader->position_key(), position[s]);
        committed_position[s] = position[s];
      }
    }
    RETURN_IF_ERROR(store->Commit(commit));
    for (size_t s = 0; s < sources.size(); ++s) {
      sources[s]->committed_rows += uncommitted_rows[s];
      uncommitted_rows[s] = 0;
      position_dirty[s] = false;
    }
    syncer.Committed(committed_position);
    commit = CommitBatch();
    changes_in_commit = 0;
    have_uncommitted = false;
    return Status::OK();
  };

  Status status;
  while (status.ok()) {
    auto item = writer_input.PopFor(kMaxCommitDelay);
    if (item) {
      const size_t s = item->source;
      Pending& p = pending[s][item->seq];
      p.position = item->origin->position;
      p.source_rows = item->source_rows;
      changes_in_commit += item->changes.size();
      p.changes.push_back(std::move(item->changes));
      // Move every batch that all of the source's endpoints have encoded, in order.
      while (!pending[s].empty() &&
             pending[s].begin()->second.changes.size() == sources[s]->expected_deliveries) {
        Pending done = std::move(pending[s].begin()->second);
        pending[s].erase(pending[s].begin());
        for (auto& c : done.changes) commit.tables.push_back(std::move(c));
        position[s] = std::move(done.position);
        position_dirty[s] = true;
        uncommitted_rows[s] += done.source_rows;
        if (!have_uncommitted) {
          have_uncommitted = true;
          oldest_uncommitted = std::chrono::steady_clock::now();
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const bool closed = !item && writer_input.closed_and_empty();
    if (!item || changes_in_commit >= kMaxChangesPerCommit ||
        (have_uncommitted && now - oldest_uncommitted >= kMaxCommitDelay)) {
      status = flush();
    }
    if (closed) break;
  }
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

std::vector<SourceStats> Pipeline::stats() const {
  std::vector<SourceStats> out;
  for (const auto& s : impl_->sources) {
    out.push_back({s->name, s->committed_rows.load(), s->finished.load(), s->failed.load()});
  }
  return out;
}

}  // namespace sluice
