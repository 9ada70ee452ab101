#include "control/pipeline.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "common/bounded_channel.h"
#include "dataflow/statement_operators.h"
#include "sql/binder.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

constexpr size_t kSinkChannelBatches = 8;
constexpr size_t kWriterChannelBatches = 16;
constexpr size_t kMaxChangesPerCommit = 256 * 1024;
constexpr auto kMaxCommitDelay = std::chrono::milliseconds(100);
constexpr auto kSyncInterval = std::chrono::seconds(1);

// A batch on its way from a source to sinks, possibly through SQL statements: it keeps the
// source's identity and sequence number so the writer can commit it as one unit.
struct SourceBatch {
  size_t source;
  size_t slot;  // which FROM input of the receiving statement this is (0 for sinks)
  uint64_t seq;
  std::shared_ptr<const OperationBatch> batch;  // after statements: their output
  uint64_t source_rows;                         // operations the source batch held
};

// Where a node sends its batches.
struct Target {
  enum Kind { kSink, kStatement } kind;
  size_t index;
  size_t slot = 0;  // statements: the FROM input this edge feeds
};

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
  } else {
    out += "files," + c.files.path + (c.files.format == FileFormat::kCsv ? ",csv" : ",jsonl");
  }
  return out;
}

}  // namespace

struct Pipeline::Impl {
  struct SourceNode {
    const SourceConfig* config;
    const ConnectionConfig* connection;
    std::unique_ptr<SourceReader> reader;
    std::vector<Target> targets;
    size_t expected_deliveries = 0;  // source -> sink paths: batches the writer waits for
    std::thread thread;
    std::atomic<uint64_t> committed_rows{0};
    std::atomic<bool> finished{false};
    std::atomic<bool> failed{false};
  };
  // One SQL statement: its operator chain runs on its own thread.
  // One operator of a statement, on its own thread. Batches arrive tagged with the side
  // (input) of the operator they are for.
  struct StageNode {
    std::unique_ptr<BoundedChannel<SourceBatch>> input;
    std::atomic<size_t> open_inputs{0};  // edges feeding it; the input closes after the last
    std::thread thread;
  };
  struct StatementNode {
    std::unique_ptr<BoundSelect> plan;
    StatementOperators operators;
    std::vector<std::unique_ptr<StageNode>> stages;  // one per operators.stages entry
    std::vector<Target> targets;
    std::string lineage;
    std::atomic<bool> failed{false};
  };
  struct SinkNode {
    const EndpointConfig* config;
    Schema schema;
    std::string lineage;
    std::unique_ptr<BoundedChannel<SourceBatch>> input;
    std::thread thread;
  };
  struct Pending {
    std::string position;
    uint64_t source_rows = 0;
    std::vector<TableChanges> changes;
  };

  Config config;
  std::vector<std::unique_ptr<SourceNode>> sources;
  std::vector<std::unique_ptr<StatementNode>> statements;
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
  void RunStage(size_t statement, size_t stage);
  void RunSink(size_t index);
  void RunWriter();
  void EncodeInto(const SinkNode& sink, const OperationBatch& batch, TableChanges& out);
  bool Deliver(const std::vector<Target>& targets, const SourceBatch& batch);
  void CloseTargets(const std::vector<Target>& targets);
  void Fail(const Status& status);
  size_t CountSinkPaths(const std::vector<Target>& targets) const;
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
  std::map<std::string, size_t> source_index;
  auto open_source = [&](const SourceConfig& source) -> Result<size_t> {
    auto [it, inserted] = source_index.emplace(source.name, impl->sources.size());
    if (inserted) {
      auto node = std::make_unique<Impl::SourceNode>();
      node->config = &source;
      node->connection = cfg.FindConnection(source.connection);
      ASSIGN_OR_RETURN(node->reader, OpenSource(*node->connection, source));
      impl->sources.push_back(std::move(node));
    }
    return it->second;
  };

  // SQL: every source is a table statements may read; each INTO table is one more.
  std::map<std::string, size_t> statement_of_table;
  if (!cfg.sql.empty()) {
    TableCatalog catalog;
    for (const SourceConfig& s : cfg.sources) {
      ASSIGN_OR_RETURN(size_t index, open_source(s));
      catalog[s.name] = impl->sources[index]->reader->schema();
    }
    auto plans = BindSqlScript(cfg.sql, cfg.sql_line, catalog, cfg.sql_indent);
    if (!plans.ok()) {
      return Status(plans.status().code() == StatusCode::kUnimplemented
                        ? StatusCode::kInvalidArgument
                        : plans.status().code(),
                    cfg.file + ": sql: " + plans.status().message());
    }
    for (auto& plan : *plans) {
      auto node = std::make_unique<Impl::StatementNode>();
      const BoundSelect& p = *plan;
      node->operators = BuildStatementOperators(p);
      for (size_t i = 0; i < node->operators.stages.size(); ++i) {
        node->stages.push_back(std::make_unique<Impl::StageNode>());
        if (i > 0) node->stages[i]->open_inputs = 1;  // the stage before it
      }
      const std::vector<std::string> tables = p.InputTables();
      for (size_t slot = 0; slot < tables.size(); ++slot) {
        Target self{Target::kStatement, impl->statements.size(), slot};
        const std::string& table = tables[slot];
        if (auto up = statement_of_table.find(table); up != statement_of_table.end()) {
          node->lineage += impl->statements[up->second]->lineage + " ; ";
          impl->statements[up->second]->targets.push_back(self);
        } else {
          size_t src = source_index.at(table);
          const auto& sn = *impl->sources[src];
          node->lineage += Lineage(*sn.connection, *sn.config) + " ; ";
          impl->sources[src]->targets.push_back(self);
        }
        ++node->stages[node->operators.entry[slot].first]->open_inputs;
      }
      node->lineage += " | " + p.Describe();
      node->plan = std::move(plan);
      statement_of_table[p.into] = impl->statements.size();
      impl->statements.push_back(std::move(node));
    }
  }

  for (const EndpointConfig& endpoint : cfg.endpoints) {
    Schema schema;
    Target self{Target::kSink, impl->sinks.size()};
    std::string lineage;
    if (auto st = statement_of_table.find(endpoint.table); st != statement_of_table.end()) {
      auto& node = *impl->statements[st->second];
      schema = node.plan->output_schema;
      lineage = node.lineage;
      node.targets.push_back(self);
    } else if (const SourceConfig* source = cfg.FindSource(endpoint.table)) {
      ASSIGN_OR_RETURN(size_t index, open_source(*source));
      auto& node = *impl->sources[index];
      schema = node.reader->schema();
      lineage = Lineage(*node.connection, *node.config);
      node.targets.push_back(self);
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
    source->expected_deliveries = impl->CountSinkPaths(source->targets);
  }
  for (const SourceConfig& s : cfg.sources) {
    if (!source_index.count(s.name)) {
      spdlog::warn("{}: source '{}' is not used by any endpoint or statement; it will not be read",
                   s.location.ToString(), s.name);
    }
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

size_t Pipeline::Impl::CountSinkPaths(const std::vector<Target>& targets) const {
  size_t n = 0;
  for (const Target& t : targets) {
    n += t.kind == Target::kSink ? 1 : CountSinkPaths(statements[t.index]->targets);
  }
  return n;
}

bool Pipeline::needs_full_replay() const {
  for (const auto& st : impl_->statements) {
    if (st->plan->stateful()) return true;
  }
  return false;
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
    out += "source " + source->config->name + " <- connection " + c.name + " (";
    if (c.kind == ConnectionKind::kGenerator) {
      out += "generator " + c.generator.dataset + " table " + source->config->table + ", " +
             (c.generator.events ? std::to_string(c.generator.events) + " events" : "unbounded") +
             ", seed " + std::to_string(c.generator.seed) + ")\n";
    } else {
      out += std::string("files ") + (c.files.format == FileFormat::kCsv ? "csv" : "jsonl") + " " +
             c.files.path + "/" + source->config->table + ")\n";
    }
    out += "  thread: source node -> " + std::to_string(source->targets.size()) + " consumer(s)\n";
  }
  for (const auto& st : impl_->statements) {
    out += st->plan->Describe();
    out += "  threads: one per operator:";
    for (const auto& stage : st->operators.stages) out += std::string(" [") + stage->name() + "]";
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
    ASSIGN_OR_RETURN(std::string p, store->Position(source->config->name));
    positions.push_back(std::move(p));
  }
  d.open_sinks = d.sinks.size();
  for (auto& sink : d.sinks) {
    sink.input = std::make_unique<BoundedChannel<SourceBatch>>(kSinkChannelBatches);
  }
  for (auto& st : d.statements) {
    for (auto& stage : st->stages) {
      stage->input = std::make_unique<BoundedChannel<SourceBatch>>(kSinkChannelBatches);
    }
  }
  if (d.sinks.empty()) d.writer_input.Close();
  d.writer = std::thread([&d] { d.RunWriter(); });
  for (size_t i = 0; i < d.sinks.size(); ++i) {
    d.sinks[i].thread = std::thread([&d, i] { d.RunSink(i); });
  }
  for (size_t i = 0; i < d.statements.size(); ++i) {
    for (size_t j = 0; j < d.statements[i]->stages.size(); ++j) {
      d.statements[i]->stages[j]->thread = std::thread([&d, i, j] { d.RunStage(i, j); });
    }
  }
  for (size_t i = 0; i < d.sources.size(); ++i) {
    d.sources[i]->thread = std::thread([&d, i, p = positions[i]] { d.RunSource(i, p); });
  }
  return Status::OK();
}

bool Pipeline::Impl::Deliver(const std::vector<Target>& targets, const SourceBatch& batch) {
  for (const Target& t : targets) {
    SourceBatch copy = batch;
    BoundedChannel<SourceBatch>* channel;
    if (t.kind == Target::kSink) {
      channel = sinks[t.index].input.get();
    } else {
      auto [stage, side] = statements[t.index]->operators.entry[t.slot];
      channel = statements[t.index]->stages[stage]->input.get();
      copy.slot = size_t(side);
    }
    if (!channel->Push(std::move(copy))) return false;
  }
  return true;
}

void Pipeline::Impl::CloseTargets(const std::vector<Target>& targets) {
  for (const Target& t : targets) {
    if (t.kind == Target::kSink) {
      sinks[t.index].input->Close();
    } else {
      auto& stage =
          *statements[t.index]->stages[statements[t.index]->operators.entry[t.slot].first];
      if (--stage.open_inputs == 0) stage.input->Close();
    }
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
  SourceContext context;
  context.start_position = start_position;
  context.stop = stop.get_token();
  context.emit = [&](OperationBatch batch) {
    const uint64_t rows = batch.ops.size();
    auto shared = std::make_shared<const OperationBatch>(std::move(batch));
    return Deliver(node.targets, SourceBatch{index, 0, seq++, std::move(shared), rows});
  };
  // An empty first batch lets statements publish their initial output (the one row of an
  // aggregate without GROUP BY) even when the source has nothing to say.
  Status s =
      context.emit(OperationBatch{{}, start_position}) ? node.reader->Run(context) : Status::OK();
  if (!s.ok()) {
    node.failed = true;
    spdlog::error("source '{}' stopped: {}", node.config->name, s.message());
  }
  node.finished = true;
  CloseTargets(node.targets);
}

void Pipeline::Impl::RunStage(size_t statement, size_t index) {
  StatementNode& node = *statements[statement];
  StageNode& self = *node.stages[index];
  Stage& stage = *node.operators.stages[index];
  const bool last = index + 1 == node.stages.size();
  bool started = false;
  while (auto item = self.input->Pop()) {
    std::vector<Operation> changes;
    if (!started) {
      stage.Start(changes);
      started = true;
    }
    if (!node.failed) {
      Status s = stage.Process(int(item->slot), item->batch->ops, changes);
      if (!s.ok()) {
        node.failed = true;
        changes.clear();
        // A runtime failure, not a config error: `sluice run` exits 1, not 2.
        Fail(FailedPrecondition("sql statement at " + node.plan->location + " (INTO " +
                                node.plan->into + ") failed: " + s.message()));
        spdlog::error(
            "sql statement at {} (INTO {}) failed in its {} operator: {}; stopping "
            "the pipeline",
            node.plan->location, node.plan->into, stage.name(), s.message());
      }
    } else {
      changes.clear();
    }
    // Every stage forwards one batch per input batch, so the writer can still count
    // deliveries per source batch.
    auto out = std::make_shared<OperationBatch>();
    out->ops = std::move(changes);
    out->position = item->batch->position;
    SourceBatch next{item->source, 0, item->seq, std::move(out), item->source_rows};
    bool delivered = last ? Deliver(node.targets, next) : node.stages[index + 1]->input->Push(next);
    if (!delivered) {
      self.input->Close();
      break;
    }
  }
  if (!last) {
    StageNode& following = *node.stages[index + 1];
    if (--following.open_inputs == 0) following.input->Close();
  } else {
    CloseTargets(node.targets);
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
    EncodedBatch encoded{item->source, item->seq, item->batch, item->source_rows,
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
  std::vector<uint64_t> uncommitted_rows(sources.size(), 0);
  size_t changes_in_commit = 0;
  bool have_uncommitted = false;
  auto oldest_uncommitted = std::chrono::steady_clock::now();
  auto last_sync = std::chrono::steady_clock::now();
  bool synced = true;

  auto flush = [&]() -> Status {
    if (!have_uncommitted) return Status::OK();
    for (size_t s = 0; s < sources.size(); ++s) {
      if (position_dirty[s]) commit.positions.emplace_back(sources[s]->config->name, position[s]);
    }
    RETURN_IF_ERROR(store->Commit(commit));
    for (size_t s = 0; s < sources.size(); ++s) {
      sources[s]->committed_rows += uncommitted_rows[s];
      uncommitted_rows[s] = 0;
      position_dirty[s] = false;
    }
    commit = CommitBatch();
    changes_in_commit = 0;
    have_uncommitted = false;
    synced = false;
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
    if (status.ok() && !synced && (closed || now - last_sync >= kSyncInterval)) {
      status = store->Sync();
      last_sync = now;
      synced = true;
    }
    if (closed) break;
  }
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
  for (auto& st : d.statements) {
    for (auto& stage : st->stages) {
      if (stage->thread.joinable()) stage->thread.join();
    }
  }
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
    out.push_back(
        {s->config->name, s->committed_rows.load(), s->finished.load(), s->failed.load()});
  }
  return out;
}

}  // namespace sluice
