// DataflowGraph's epoch barriers: a two-input stage holds an input that is ahead until the
// other input delivers the same barrier, so an output's barrier separates exactly what the
// epochs' inputs caused.
#include "dataflow/dataflow_graph.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

#include "sql/binder.h"
#include "types/tagged_record.h"

namespace sluice {
namespace {

// What reached the output, in order: "barrier <e>" or one line per output row.
class Recorder {
 public:
  DataflowGraph::Output output() {
    return {[this](FlowBatch b) {
              std::lock_guard lock(mu_);
              for (const Operation& op : b.batch->ops) {
                events_.push_back("row " + op.new_record[0].DebugString() + "," +
                                  op.new_record[1].DebugString());
              }
              ++batches_;
              changed_.notify_all();
              return true;
            },
            [] {},
            [this](uint64_t epoch) {
              std::lock_guard lock(mu_);
              events_.push_back("barrier " + std::to_string(epoch));
              changed_.notify_all();
              return true;
            }};
  }
  // Waits until `batches` data batches and `barriers` barriers arrived; returns the events.
  std::vector<std::string> WaitFor(size_t batches, size_t barriers) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      size_t seen = 0;
      for (const auto& e : events_) seen += e.rfind("barrier", 0) == 0;
      return batches_ >= batches && seen >= barriers;
    });
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
  size_t batches_ = 0;
};

std::shared_ptr<OperationBatch> Inserts(std::vector<Record> rows) {
  auto batch = std::make_shared<OperationBatch>();
  for (auto& r : rows) batch->ops.push_back(Operation::Insert(std::move(r)));
  return batch;
}

TEST(DataflowGraph, BarriersAlignAtAJoin) {
  TableCatalog catalog;
  catalog["t"] = Schema{{{"k", FieldType::kInt, true}}, {}};
  catalog["u"] = Schema{{{"k", FieldType::kInt, true}, {"v", FieldType::kInt, true}}, {}};
  auto plans = BindSqlScript("SELECT t.k, u.v INTO o FROM t JOIN u ON t.k = u.k", 1, catalog);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  Recorder recorder;  // outlives the graph's threads
  DataflowGraph graph(std::move(*plans));
  graph.AttachOutput(0, recorder.output());
  graph.Start(nullptr);
  auto i = [](int64_t v) { return Value(v); };

  ASSERT_TRUE(graph.Push("t", FlowBatch{0, 0, Inserts({{i(1)}}), 1}));
  ASSERT_TRUE(graph.PushBarrier("t", 1));
  // t is ahead: its epoch-2 row waits until u has finished epoch 1.
  ASSERT_TRUE(graph.Push("t", FlowBatch{0, 1, Inserts({{i(2)}}), 1}));
  ASSERT_TRUE(graph.Push("u", FlowBatch{1, 0, Inserts({{i(2), i(20)}, {i(1), i(10)}}), 2}));
  EXPECT_EQ(recorder.WaitFor(2, 0), (std::vector<std::string>{"row 1,10"}));
  ASSERT_TRUE(graph.PushBarrier("u", 1));
  // Epoch 1 joined t's 1 with u's rows; t's 2 comes after the barrier.
  EXPECT_EQ(recorder.WaitFor(3, 1),
            (std::vector<std::string>{"row 1,10", "barrier 1", "row 2,20"}));

  // An ended input no longer holds barriers back.
  graph.CloseInput("u");
  ASSERT_TRUE(graph.PushBarrier("t", 2));
  EXPECT_EQ(recorder.WaitFor(3, 2),
            (std::vector<std::string>{"row 1,10", "barrier 1", "row 2,20", "barrier 2"}));
  graph.CloseInput("t");
  graph.Join();
}

// Checkpoints: a run stopped after epoch K and restored from the checkpointed input rows of
// its stateful stages (joins, aggregates with and without GROUP BY, DISTINCT, top-n, a
// statement reading another's output) ends with exactly the outputs of an uninterrupted run.
class CheckpointRun {
 public:
  using Multiset = std::map<std::string, int64_t>;
  // Per epoch: batches for t and u (an empty batch first, as the pipeline sends at start).
  struct Epoch {
    std::vector<Operation> t, u;
  };

  static std::vector<std::unique_ptr<BoundSelect>> Plans() {
    TableCatalog catalog;
    catalog["t"] = Schema{{{"k", FieldType::kInt, true}, {"x", FieldType::kInt, true}}, {}};
    catalog["u"] = Schema{{{"k", FieldType::kInt, true}, {"name", FieldType::kString, true}}, {}};
    auto plans = BindSqlScript(
        "SELECT u.name, count(*) AS n, sum(t.x) AS total, max(t.x) AS top INTO by_name "
        "FROM t JOIN u ON t.k = u.k GROUP BY u.name;\n"
        "SELECT count(*) AS n INTO everything FROM t;\n"
        "SELECT DISTINCT x INTO xs FROM t;\n"
        "SELECT k, x INTO best FROM t ORDER BY x DESC, k LIMIT 3;\n"
        "SELECT n, count(*) AS names INTO histogram FROM by_name GROUP BY n;\n",
        1, catalog);
    EXPECT_TRUE(plans.ok()) << plans.status().ToString();
    return std::move(*plans);
  }

  // Runs `epochs` from `from` to the end (to `stop_after` when set, keeping only what epochs up
  // to it produced, like a commit that never saw the rest), restoring `state` first when
  // `restore`. Applies every statement's output to `outputs`; records checkpoints in `state`.
  void Run(const std::vector<Epoch>& epochs, size_t from, std::optional<size_t> stop_after,
           bool restore) {
    DataflowGraph graph(Plans());
    outputs.resize(graph.statement_count());
    std::mutex mu;
    std::vector<std::map<uint64_t, std::vector<Operation>>> by_epoch(graph.statement_count());
    std::vector<uint64_t> current(graph.statement_count(), 1);
    std::map<uint64_t, std::vector<DataflowGraph::StageCheckpoint>> checkpoints;
    for (size_t i = 0; i < graph.statement_count(); ++i) {
      graph.AttachOutput(i, {[&, i](FlowBatch b) {
                               std::lock_guard lock(mu);
                               auto& ops = by_epoch[i][current[i]];
                               ops.insert(ops.end(), b.batch->ops.begin(), b.batch->ops.end());
                               return true;
                             },
                             [] {},
                             [&, i](uint64_t e) {
                               std::lock_guard lock(mu);
                               current[i] = e + 1;
                               return true;
                             }});
    }
    graph.SetCheckpointSink([&](DataflowGraph::StageCheckpoint c) {
      std::lock_guard lock(mu);
      checkpoints[c.final ? ~uint64_t{0} : c.epoch].push_back(std::move(c));
      return true;
    });
    if (restore) {
      for (auto [statement, stage] : graph.StatefulStages()) {
        std::vector<Operation> rows[2];
        for (const auto& [key, copies] : state) {
          if (std::get<0>(key) != statement || std::get<1>(key) != stage) continue;
          auto row = DecodeTaggedRecord(std::get<3>(key));
          ASSERT_TRUE(row.ok());
          for (int64_t c = 0; c < copies; ++c)
            rows[std::get<2>(key)].push_back(Operation::Insert(*row));
        }
        for (int side = 0; side < 2; ++side) {
          ASSERT_TRUE(graph.Restore(statement, stage, side, rows[side]).ok());
        }
      }
    }
    graph.Start(nullptr);
    const size_t end = stop_after ? *stop_after + 1 : epochs.size();
    uint64_t seq = 0;
    ASSERT_TRUE(graph.Push("t", FlowBatch{0, seq, std::make_shared<OperationBatch>(), 0}));
    ASSERT_TRUE(graph.Push("u", FlowBatch{1, seq++, std::make_shared<OperationBatch>(), 0}));
    for (size_t e = from; e < end; ++e) {
      auto t = std::make_shared<OperationBatch>(OperationBatch{epochs[e].t, ""});
      auto u = std::make_shared<OperationBatch>(OperationBatch{epochs[e].u, ""});
      ASSERT_TRUE(graph.Push("t", FlowBatch{0, seq, t, t->ops.size()}));
      ASSERT_TRUE(graph.Push("u", FlowBatch{1, seq++, u, u->ops.size()}));
      ASSERT_TRUE(graph.PushBarrier("t", e + 1));
      ASSERT_TRUE(graph.PushBarrier("u", e + 1));
    }
    graph.CloseInput("t");
    graph.CloseInput("u");
    graph.Join();
    // What a commit of epochs up to `end` holds: outputs before their barriers and the
    // checkpoints taken at them (at the end of a full run, the final ones too).
    const uint64_t last = stop_after ? end : ~uint64_t{0};
    for (size_t i = 0; i < by_epoch.size(); ++i) {
      for (const auto& [epoch, ops] : by_epoch[i]) {
        if (epoch > last) continue;
        for (const Operation& op : ops) {
          if (op.kind != OpKind::kInsert) outputs[i][Text(op.old_record)] -= 1;
          if (op.kind != OpKind::kDelete) outputs[i][Text(op.new_record)] += 1;
        }
      }
    }
    for (const auto& [epoch, list] : checkpoints) {
      if (epoch > last) continue;
      for (const auto& c : list) {
        for (const auto& r : c.rows) {
          std::string row;
          EncodeTaggedRecord(r.row, &row);
          state[{c.statement, c.stage, r.side, row}] += r.weight;
        }
      }
    }
    std::erase_if(state, [](const auto& e) { return e.second == 0; });
    for (auto& o : outputs) std::erase_if(o, [](const auto& e) { return e.second == 0; });
  }

  static std::string Text(const Record& r) {
    std::string out;
    for (const Value& v : r) out += v.DebugString() + ",";
    return out;
  }

  std::vector<Multiset> outputs;
  // (statement, stage, side, row as EncodeTaggedRecord) -> copies
  std::map<std::tuple<size_t, size_t, int, std::string>, int64_t> state;
};

TEST(DataflowGraph, RestoredCheckpointsContinueExactlyLikeAnUninterruptedRun) {
  std::mt19937 rng(11);
  auto i = [](int64_t v) { return Value(v); };
  std::vector<CheckpointRun::Epoch> epochs(30);
  std::vector<Record> t_rows, u_rows;
  for (auto& epoch : epochs) {
    for (int n = 0; n < 12; ++n) {
      if (!t_rows.empty() && rng() % 4 == 0) {  // delete or update an existing t row
        size_t at = rng() % t_rows.size();
        if (rng() % 2) {
          epoch.t.push_back(Operation::Delete(t_rows[at]));
          t_rows.erase(t_rows.begin() + long(at));
        } else {
          Record updated{t_rows[at][0], i(int64_t(rng() % 50))};
          epoch.t.push_back(Operation::Update(t_rows[at], updated));
          t_rows[at] = updated;
        }
      } else {
        t_rows.push_back({i(int64_t(rng() % 8)), i(int64_t(rng() % 50))});
        epoch.t.push_back(Operation::Insert(t_rows.back()));
      }
    }
    if (rng() % 3 == 0 && !u_rows.empty()) {
      size_t at = rng() % u_rows.size();
      epoch.u.push_back(Operation::Delete(u_rows[at]));
      u_rows.erase(u_rows.begin() + long(at));
    } else {
      u_rows.push_back({i(int64_t(rng() % 8)), Value("name" + std::to_string(rng() % 3))});
      epoch.u.push_back(Operation::Insert(u_rows.back()));
    }
  }
  CheckpointRun whole;
  whole.Run(epochs, 0, std::nullopt, false);
  for (size_t stop : {size_t{0}, size_t{7}, size_t{19}}) {
    CheckpointRun resumed;
    resumed.Run(epochs, 0, stop, false);
    ASSERT_FALSE(resumed.state.empty());
    resumed.Run(epochs, stop + 1, std::nullopt, true);
    for (size_t s = 0; s < whole.outputs.size(); ++s) {
      EXPECT_EQ(resumed.outputs[s], whole.outputs[s])
          << "statement " << s << ", stopped after " << stop;
      EXPECT_FALSE(whole.outputs[s].empty()) << s;
    }
  }
  // Without the checkpoints the resumed run could not be right: the guard that this test
  // checks restoring at all.
  CheckpointRun forgetful;
  forgetful.Run(epochs, 0, 7, false);
  forgetful.state.clear();
  forgetful.Run(epochs, 8, std::nullopt, true);
  EXPECT_NE(forgetful.outputs[0], whole.outputs[0]);
}

}  // namespace
}  // namespace sluice
