#include "dataflow/dataflow_graph.h"

#include <pthread.h>

#include <atomic>
#include <deque>
#include <optional>
#include <set>
#include <thread>

#include <absl/container/flat_hash_map.h>

#include "common/bounded_channel.h"
#include "dataflow/pane_aggregate.h"

namespace sluice {
namespace {

constexpr size_t kStageChannelBatches = 8;

// What travels to one stage, on one of its inputs (side): a batch of changes, an epoch's
// barrier, or the end of that input.
struct StageInput {
  enum Kind { kData, kBarrier, kEnd };
  Kind kind = kData;
  int side = 0;
  FlowBatch batch;     // kData
  uint64_t epoch = 0;  // kBarrier
};

struct RecordHash {
  size_t operator()(const Record& r) const { return HashRecord(r); }
};

// The net change of a stateful stage's inputs since its last checkpoint: per side, each row
// with the change in its number of copies.
class InputChanges {
 public:
  void Add(int side, const std::vector<Operation>& ops) {
    auto& rows = rows_[side];
    for (const Operation& op : ops) {
      if (op.kind != OpKind::kInsert) rows[op.old_record] -= 1;
      if (op.kind != OpKind::kDelete) rows[op.new_record] += 1;
    }
  }
  // Moves the non-zero changes into `out` and starts over.
  void Take(std::vector<DataflowGraph::StageCheckpoint::Row>& out) {
    for (int side = 0; side < 2; ++side) {
      for (auto& [row, weight] : rows_[side]) {
        if (weight != 0) out.push_back({side, row, weight});
      }
      rows_[side].clear();
    }
  }

 private:
  absl::flat_hash_map<Record, int64_t, RecordHash> rows_[2];
};

// Runs one step of an operator. An exception escaping an operator is a bug of ours, but it must
// cost only its statement (reported like any runtime error), never the whole process.
template <typename Step>
Status Guarded(const Stage& stage, Step&& step) {
  try {
    return step();
  } catch (const std::exception& e) {
    return Internal("internal error in the " + std::string(stage.name()) +
                    " operator: " + e.what());
  }
}

}  // namespace

struct DataflowGraph::Statement {
  struct Stage {
    BoundedChannel<StageInput> input{kStageChannelBatches};
    bool fed[2] = {false, false};  // which sides have a producer
    bool restored = false;         // Restore() ran: the stage has started already
    std::thread thread;
  };
  std::unique_ptr<BoundSelect> plan;
  StatementOperators operators;
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<Output> outputs;
  std::atomic<bool> failed{false};
};

namespace {

// Per statement, the output columns its readers use (empty: all). Only internal statements
// ("#..." INTO tables: subqueries, WITH, windows) are pruned; a user's INTO table may be an
// endpoint, which shows every column.
std::vector<std::vector<bool>> UsedOutputs(const std::vector<std::unique_ptr<BoundSelect>>& plans) {
  std::vector<std::vector<bool>> used(plans.size());
  for (size_t i = plans.size(); i-- > 0;) {
    const BoundSelect& plan = *plans[i];
    if (plan.into.empty() || plan.into[0] != '#') continue;
    std::vector<bool> columns(plan.output_schema.fields.size(), false);
    bool all = false;
    for (size_t j = i + 1; j < plans.size() && !all; ++j) {
      const std::vector<std::string> tables = plans[j]->InputTables();
      for (size_t slot = 0; slot < tables.size(); ++slot) {
        if (tables[slot] != plan.into) continue;
        const std::vector<bool> read = SlotColumnsRead(*plans[j], slot, used[j]);
        if (read.size() != columns.size()) {
          all = true;
          break;
        }
        for (size_t c = 0; c < columns.size(); ++c) columns[c] = columns[c] || read[c];
      }
    }
    if (!all) used[i] = std::move(columns);
  }
  return used;
}

// HOP statements whose only reader can aggregate panes (pane_aggregate.h): reader -> window.
std::map<size_t, size_t> PaneAggregations(const std::vector<std::unique_ptr<BoundSelect>>& plans) {
  std::map<size_t, size_t> out;
  for (size_t i = 0; i < plans.size(); ++i) {
    if (!plans[i]->window) continue;
    std::vector<size_t> readers;
    for (size_t j = i + 1; j < plans.size(); ++j) {
      for (const std::string& table : plans[j]->InputTables()) {
        if (table == plans[i]->into) readers.push_back(j);
      }
    }
    if (readers.size() == 1 && CanUsePanes(*plans[i], *plans[readers[0]])) out[readers[0]] = i;
  }
  return out;
}

}  // namespace

DataflowGraph::DataflowGraph(std::vector<std::unique_ptr<BoundSelect>> plans) {
  const std::vector<std::vector<bool>> used = UsedOutputs(plans);
  const std::map<size_t, size_t> panes = PaneAggregations(plans);
  std::set<size_t> pane_windows;
  for (const auto& [reader, window] : panes) pane_windows.insert(window);
  for (size_t i = 0; i < plans.size(); ++i) {
    auto& plan = plans[i];
    auto st = std::make_unique<Statement>();
    if (pane_windows.count(i)) {
      st->operators = BuildPaneWindowOperators(*plan, used[i]);
    } else if (auto it = panes.find(i); it != panes.end()) {
      // The window statement came earlier: its plan is already in statements_.
      st->operators = BuildPaneAggregateOperators(*statements_[it->second]->plan, *plan);
    } else {
      st->operators = BuildStatementOperators(*plan, used[i]);
    }
    for (size_t i = 0; i < st->operators.stages.size(); ++i) {
      st->stages.push_back(std::make_unique<Statement::Stage>());
      if (i > 0) st->stages[i]->fed[0] = true;  // the stage before it
    }
    const std::vector<std::string> tables = plan->InputTables();
    for (size_t slot = 0; slot < tables.size(); ++slot) {
      readers_[tables[slot]].push_back({statements_.size(), slot});
      auto [stage, side] = st->operators.entry[slot];
      st->stages[stage]->fed[side] = true;
    }
    st->plan = std::move(plan);
    statements_.push_back(std::move(st));
  }
}

DataflowGraph::~DataflowGraph() {
  // Abandoned while running (an owner's error path): stop taking input so the threads end.
  for (auto& st : statements_) {
    for (auto& stage : st->stages) stage->input.Close();
  }
  Join();
}

const BoundSelect& DataflowGraph::plan(size_t statement) const {
  return *statements_[statement]->plan;
}

const StatementOperators& DataflowGraph::operators(size_t statement) const {
  return statements_[statement]->operators;
}

std::optional<size_t> DataflowGraph::StatementOf(const std::string& table) const {
  for (size_t i = 0; i < statements_.size(); ++i) {
    if (statements_[i]->plan->into == table) return i;
  }
  return std::nullopt;
}

std::vector<std::string> DataflowGraph::InputTables() const {
  std::vector<std::string> out;
  for (const auto& [table, edges] : readers_) {
    if (!StatementOf(table)) out.push_back(table);
  }
  return out;
}

void DataflowGraph::AttachOutput(size_t statement, Output output) {
  statements_[statement]->outputs.push_back(std::move(output));
}

size_t DataflowGraph::PathsOf(const std::vector<Edge>& edges) const {
  size_t n = 0;
  for (const Edge& e : edges) {
    const Statement& st = *statements_[e.statement];
    n += st.outputs.size();
    if (auto it = readers_.find(st.plan->into); it != readers_.end()) n += PathsOf(it->second);
  }
  return n;
}

size_t DataflowGraph::OutputPaths(const std::string& table) const {
  auto it = readers_.find(table);
  return it == readers_.end() ? 0 : PathsOf(it->second);
}

std::vector<std::pair<size_t, size_t>> DataflowGraph::StatefulStages() const {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < statements_.size(); ++i) {
    const auto& stages = statements_[i]->operators.stages;
    for (size_t j = 0; j < stages.size(); ++j) {
      if (stages[j]->keeps_state()) out.emplace_back(i, j);
    }
  }
  return out;
}

Status DataflowGraph::Restore(size_t statement, size_t stage, int side,
                              const std::vector<Operation>& rows) {
  Statement& st = *statements_[statement];
  Stage& op = *st.operators.stages[stage];
  std::vector<Operation> dropped;
  if (!st.stages[stage]->restored) {
    op.Start(dropped);
    st.stages[stage]->restored = true;
  }
  dropped.clear();
  Status s = op.Process(side, rows, dropped);
  if (!s.ok()) {
    return Status(s.code(), "restoring the " + std::string(op.name()) + " operator of statement " +
                                st.plan->location + ": " + s.message());
  }
  return Status::OK();
}

void DataflowGraph::Start(ErrorHandler on_error) {
  on_error_ = std::move(on_error);
  for (size_t i = 0; i < statements_.size(); ++i) {
    for (size_t j = 0; j < statements_[i]->stages.size(); ++j) {
      statements_[i]->stages[j]->thread = std::thread([this, i, j] { RunStage(i, j); });
    }
  }
}

bool DataflowGraph::Deliver(const std::vector<Edge>& edges, const FlowBatch& batch) {
  for (const Edge& e : edges) {
    Statement& st = *statements_[e.statement];
    auto [stage, side] = st.operators.entry[e.slot];
    if (!st.stages[stage]->input.Push(StageInput{StageInput::kData, side, batch, 0})) {
      return false;
    }
  }
  return true;
}

bool DataflowGraph::DeliverBarrier(const std::vector<Edge>& edges, uint64_t epoch) {
  for (const Edge& e : edges) {
    Statement& st = *statements_[e.statement];
    auto [stage, side] = st.operators.entry[e.slot];
    if (!st.stages[stage]->input.Push(StageInput{StageInput::kBarrier, side, {}, epoch})) {
      return false;
    }
  }
  return true;
}

bool DataflowGraph::PushBarrier(const std::string& table, uint64_t epoch) {
  auto it = readers_.find(table);
  return it == readers_.end() || DeliverBarrier(it->second, epoch);
}

bool DataflowGraph::Push(const std::string& table, const FlowBatch& batch) {
  auto it = readers_.find(table);
  return it == readers_.end() || Deliver(it->second, batch);
}

void DataflowGraph::CloseEdges(const std::vector<Edge>& edges) {
  for (const Edge& e : edges) {
    Statement& st = *statements_[e.statement];
    auto [stage, side] = st.operators.entry[e.slot];
    (void)st.stages[stage]->input.Push(StageInput{StageInput::kEnd, side, {}, 0});
  }
}

void DataflowGraph::CloseInput(const std::string& table) {
  if (auto it = readers_.find(table); it != readers_.end()) CloseEdges(it->second);
}

void DataflowGraph::RunStage(size_t statement, size_t index) {
  Statement& st = *statements_[statement];
  Statement::Stage& self = *st.stages[index];
  Stage& stage = *st.operators.stages[index];
  // Named for top -H and profilers: "s<statement>.<stage> <operator>", cut to Linux's 15 chars.
  const std::string name =
      "s" + std::to_string(statement) + "." + std::to_string(index) + " " + stage.name();
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  const bool last = index + 1 == st.stages.size();
  const std::vector<Edge>* readers = nullptr;
  if (auto it = readers_.find(st.plan->into); it != readers_.end()) readers = &it->second;

  auto forward = [&](StageInput item) {
    if (!last) return st.stages[index + 1]->input.Push(std::move(item));
    bool delivered = true;
    if (item.kind == StageInput::kData) {
      for (const Output& o : st.outputs) delivered = delivered && o.push(item.batch);
      if (delivered && readers) delivered = Deliver(*readers, item.batch);
    } else {
      for (const Output& o : st.outputs) {
        if (o.barrier) delivered = delivered && o.barrier(item.epoch);
      }
      if (delivered && readers) delivered = DeliverBarrier(*readers, item.epoch);
    }
    return delivered;
  };

  // Aligned barriers: once a side delivers epoch e's barrier, its later items wait (held)
  // until every other open side has delivered e too; then the stage is at a consistent cut
  // (OnBarrier) and the barrier moves on.
  bool open[2] = {self.fed[0], self.fed[1]};
  bool waiting[2] = {false, false};
  std::deque<StageInput> held[2];
  uint64_t epoch = 0;
  bool started = self.restored;
  bool running = true;
  const bool checkpointed = checkpoint_ && stage.keeps_state();
  InputChanges changed;
  auto checkpoint = [&](uint64_t at, bool final) {
    StageCheckpoint c{statement, index, at, final, {}};
    changed.Take(c.rows);
    return checkpoint_(std::move(c));
  };
  auto aligned = [&] {
    bool any = false;
    for (int side = 0; side < 2; ++side) {
      if (open[side] && !waiting[side]) return false;
      any = any || waiting[side];
    }
    return any;
  };
  while (running && (open[0] || open[1])) {
    std::optional<StageInput> item;
    for (int side = 0; side < 2 && !item; ++side) {
      if (!waiting[side] && !held[side].empty()) {
        item = std::move(held[side].front());
        held[side].pop_front();
      }
    }
    if (!item) item = self.input.Pop();
    if (!item) break;  // closed by the owner (shutdown)
    const int side = item->side;
    if (waiting[side]) {
      held[side].push_back(std::move(*item));
      continue;
    }
    if (item->kind == StageInput::kEnd) {
      open[side] = false;
    } else if (item->kind == StageInput::kBarrier) {
      waiting[side] = true;
      epoch = item->epoch;
    } else {
      std::vector<Operation> changes;
      if (!started) {
        stage.Start(changes);
        started = true;
      }
      if (checkpointed) changed.Add(side, item->batch.batch->ops);
      if (!st.failed) {
        Status s =
            Guarded(stage, [&] { return stage.Process(side, item->batch.batch->ops, changes); });
        if (!s.ok()) {
          st.failed = true;
          changes.clear();
          if (on_error_) on_error_(*st.plan, stage.name(), s);
        }
      } else {
        changes.clear();
      }
      auto out = std::make_shared<OperationBatch>();
      out->ops = std::move(changes);
      out->position = item->batch.batch->position;
      FlowBatch next = item->batch;
      next.batch = std::move(out);
      running = forward(StageInput{StageInput::kData, 0, std::move(next), 0});
    }
    if (running && aligned()) {
      stage.OnBarrier(epoch);
      waiting[0] = waiting[1] = false;
      // The checkpoint goes before the barrier: whoever sees the barrier downstream can rely
      // on the stage's share of the epoch having been handed over.
      running = (!checkpointed || checkpoint(epoch, false)) &&
                forward(StageInput{StageInput::kBarrier, 0, {}, epoch});
    }
  }
  if (checkpointed) (void)checkpoint(0, true);
  self.input.Close();  // a producer still pushing (shutdown) fails instead of blocking
  if (!last) {
    (void)st.stages[index + 1]->input.Push(StageInput{StageInput::kEnd, 0, {}, 0});
    return;
  }
  for (const Output& o : st.outputs) o.close();
  if (readers) CloseEdges(*readers);
}

void DataflowGraph::Join() {
  for (auto& st : statements_) {
    for (auto& stage : st->stages) {
      if (stage->thread.joinable()) stage->thread.join();
    }
  }
}

}  // namespace sluice
