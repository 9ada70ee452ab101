// DataflowGraph's epoch barriers: a two-input stage holds an input that is ahead until the
// other input delivers the same barrier, so an output's barrier separates exactly what the
// epochs' inputs caused.
#include "dataflow/dataflow_graph.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "sql/binder.h"

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

}  // namespace
}  // namespace sluice
