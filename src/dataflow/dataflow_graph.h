// DataflowGraph: the SQL statements of a config run as a DAG of operator threads (the "DAG
// executor" of ARCHITECTURE.md). Every stage of every statement (see StatementOperators) has
// its own thread behind a bounded channel, so a slow operator slows its producers instead of
// growing memory. A statement's output flows to the statements that read its INTO table and to
// the outputs its owner attached: the pipeline's endpoint sinks, or a benchmark's null sink.
//
// Batches carry a tag (origin, sequence number, row count) that the graph passes on unchanged,
// and every stage forwards exactly one batch per batch it receives — also an empty one — so an
// owner can tell when everything an input batch caused has reached every output. Epoch
// barriers (PushBarrier) are aligned at every stage with two inputs (Chandy–Lamport): the
// stage's Stage::OnBarrier runs at a cut consistent with the epoch.
//
// Checkpoints: a stage that keeps state (Stage::keeps_state) is restored from the multiset of
// rows its inputs delivered. The graph sums each such stage's input changes per epoch and, at
// the aligned barrier, hands the net change to the checkpoint sink before forwarding the
// barrier; the owner stores it with the epoch (cache/operator_state.h). After a restart the
// owner feeds the stored rows back with Restore() before Start().
//
// Threads: build and attach outputs before Start(); then Push() and CloseInput() are called by
// the owner's input threads; outputs are called on stage threads. Join() blocks until every
// stage thread ended, which happens once every input is closed (or an output refused a batch).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataflow/statement_operators.h"
#include "sql/bound_select.h"
#include "types/operation.h"

namespace sluice {

struct FlowBatch {
  size_t origin = 0;  // the owner's id of the input the batch came from
  uint64_t seq = 0;   // its sequence number there
  std::shared_ptr<const OperationBatch> batch;
  uint64_t origin_rows = 0;  // operations the input batch held
};

class DataflowGraph {
 public:
  struct Output {
    std::function<bool(FlowBatch)> push;  // false: downstream is gone, stop
    std::function<void()> close;          // after the statement's last batch
    // An epoch's barrier: everything of the epoch has been pushed (null: not interested).
    std::function<bool(uint64_t epoch)> barrier = nullptr;
  };
  // One stateful stage's net input change over an epoch (or, `final`, since the last barrier
  // when its inputs ended): rows with the change in their number of copies, per side.
  struct StageCheckpoint {
    size_t statement = 0;
    size_t stage = 0;
    uint64_t epoch = 0;  // 0 when final
    bool final = false;
    struct Row {
      int side;
      Record row;
      int64_t weight;
    };
    std::vector<Row> rows;
  };
  // Called on the stage's thread; false: downstream is gone, stop.
  using CheckpointSink = std::function<bool(StageCheckpoint)>;

  // Called once per failing statement (a runtime error such as a division by zero); the
  // statement forwards empty batches from then on.
  using ErrorHandler =
      std::function<void(const BoundSelect& plan, const char* stage, const Status& status)>;

  // `plans` in dependency order, as BindSqlScript returns them.
  explicit DataflowGraph(std::vector<std::unique_ptr<BoundSelect>> plans);
  // Closes every stage's input (what is queued is still processed) and joins the threads.
  ~DataflowGraph();
  DataflowGraph(const DataflowGraph&) = delete;
  DataflowGraph& operator=(const DataflowGraph&) = delete;

  size_t statement_count() const { return statements_.size(); }
  const BoundSelect& plan(size_t statement) const;
  const StatementOperators& operators(size_t statement) const;
  // The statement whose INTO table is `table`.
  std::optional<size_t> StatementOf(const std::string& table) const;
  // Tables the statements read that no statement makes: what the owner must Push().
  std::vector<std::string> InputTables() const;

  void AttachOutput(size_t statement, Output output);

  // Stages that keep state, as (statement, stage) pairs.
  std::vector<std::pair<size_t, size_t>> StatefulStages() const;
  // Before Start(): where stateful stages hand their per-epoch checkpoints (none when unset).
  void SetCheckpointSink(CheckpointSink sink) { checkpoint_ = std::move(sink); }
  // Before Start(): gives a stateful stage the checkpointed changes of its input `side`
  // (inserts and deletes, in commit order); their output is dropped, as is the stage's initial
  // output: what they caused was committed before. Call it (with no rows, too) for every stateful
  // stage being restored.
  Status Restore(size_t statement, size_t stage, int side, const std::vector<Operation>& rows);
  // How many outputs one batch pushed into input `table` reaches (one per path).
  size_t OutputPaths(const std::string& table) const;

  void Start(ErrorHandler on_error);
  // Hands a batch of input `table` to every statement slot that reads it. False once the
  // graph is shutting down (an output refused a batch).
  bool Push(const std::string& table, const FlowBatch& batch);
  // The end of epoch `epoch` on input `table`: every batch pushed before it belongs to the
  // epoch. Stages align barriers (a stage waits for the epoch's barrier on all its inputs, then
  // forwards it), so an output's barrier e follows exactly the output of epoch e's inputs.
  // Every input must see the same epochs in the same order; an ended input counts as aligned.
  bool PushBarrier(const std::string& table, uint64_t epoch);
  // The producer of input `table` has ended.
  void CloseInput(const std::string& table);
  void Join();

 private:
  struct Statement;
  struct Edge {
    size_t statement;
    size_t slot;
  };
  bool Deliver(const std::vector<Edge>& edges, const FlowBatch& batch);
  bool DeliverBarrier(const std::vector<Edge>& edges, uint64_t epoch);
  void CloseEdges(const std::vector<Edge>& edges);
  void RunStage(size_t statement, size_t stage);
  size_t PathsOf(const std::vector<Edge>& edges) const;

  std::vector<std::unique_ptr<Statement>> statements_;
  std::map<std::string, std::vector<Edge>> readers_;  // table -> statement slots reading it
  ErrorHandler on_error_;
  CheckpointSink checkpoint_;
};

}  // namespace sluice
