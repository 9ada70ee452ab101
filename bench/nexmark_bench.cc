// Nexmark through Sluice's dataflow: the generator's events, in batches, are pushed into the
// query's DataflowGraph — every operator on its own thread, as `sluice run` runs them — and
// the output is counted and dropped (a null sink). Prints events/s per query.
// --inline runs every operator on the calling thread instead (one core; for profiling).
// Usage: nexmark_bench [--events N] [--runs R] [--inline] [q0 q1 ...]
//        nexmark_bench --dump DIR [--events N]   (writes person/auction/bid.csv for the peers)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "connectors/generator/nexmark_generator.h"
#include "dataflow/dataflow_graph.h"
#include "dataflow/statement_operators.h"
#include "nexmark_queries.h"
#include "sql/binder.h"
#include "types/time_util.h"

namespace sluice::bench {
namespace {

constexpr uint64_t kBatchEvents = 4096;

struct Result {
  double seconds;
  uint64_t output_changes;
  int64_t output_rows;  // rows in the output at the end: equal in both modes
};

int64_t NetRows(const std::vector<Operation>& ops) {
  int64_t n = 0;
  for (const Operation& op : ops)
    n += op.kind == OpKind::kInsert ? 1 : op.kind == OpKind::kDelete ? -1 : 0;
  return n;
}

const char* const kTables[] = {"person", "auction", "bid"};

std::vector<std::unique_ptr<BoundSelect>> Bind(const std::string& sql) {
  TableCatalog catalog;
  for (int t = 0; t < 3; ++t) {
    catalog[kTables[t]] = NexmarkGenerator::SchemaOf(NexmarkGenerator::Table(t));
  }
  auto plans = BindSqlScript(sql, 1, catalog);
  if (!plans.ok()) {
    std::fprintf(stderr, "cannot bind: %s\n", plans.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*plans);
}

// Generates `events` events in batches and hands each table's part of a batch to `push`.
template <typename Push>
void Generate(uint64_t events, Push push) {
  NexmarkGenerator generator(1);
  std::vector<Operation> batches[3];
  for (uint64_t first = 0; first < events; first += kBatchEvents) {
    for (auto& b : batches) b.clear();
    for (uint64_t e = first; e < std::min(events, first + kBatchEvents); ++e) {
      Operation op;
      generator.Generate(e, op.new_record);
      batches[int(NexmarkGenerator::TableOf(e))].push_back(std::move(op));
    }
    for (int t = 0; t < 3; ++t) {
      if (!batches[t].empty()) push(t, batches[t]);
    }
  }
}

Result RunQuery(const std::string& sql, uint64_t events) {
  DataflowGraph graph(Bind(sql));
  std::atomic<uint64_t> outputs{0};
  std::atomic<int64_t> rows{0};
  graph.AttachOutput(graph.statement_count() - 1, {[&](FlowBatch b) {
                                                     outputs += b.batch->ops.size();
                                                     rows += NetRows(b.batch->ops);
                                                     return true;
                                                   },
                                                   [] {}});
  auto start = std::chrono::steady_clock::now();
  graph.Start([](const BoundSelect& plan, const char* stage, const Status& s) {
    std::fprintf(stderr, "query failed in %s: %s\n", stage, s.ToString().c_str());
    std::exit(1);
  });
  uint64_t seq = 0;
  Generate(events, [&](int t, std::vector<Operation>& ops) {
    const uint64_t rows = ops.size();
    auto batch = std::make_shared<OperationBatch>();
    batch->ops = std::move(ops);
    graph.Push(kTables[t], FlowBatch{size_t(t), seq++, std::move(batch), rows});
  });
  for (const char* table : kTables) graph.CloseInput(table);
  graph.Join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, outputs, rows};
}

// The same on the calling thread, statement by statement.
Result RunQueryInline(const std::string& sql, uint64_t events) {
  auto owned_plans = Bind(sql);
  auto* plans = &owned_plans;
  std::vector<StatementOperators> ops;
  for (const auto& p : *plans) ops.push_back(BuildStatementOperators(*p));
  uint64_t outputs = 0;
  int64_t rows = 0;
  std::function<void(const std::string&, const std::vector<Operation>&)> feed =
      [&](const std::string& table, const std::vector<Operation>& changes) {
        for (size_t i = 0; i < plans->size(); ++i) {
          const auto tables = (*plans)[i]->InputTables();
          for (size_t slot = 0; slot < tables.size(); ++slot) {
            if (tables[slot] != table) continue;
            std::vector<Operation> out;
            Status s = ops[i].Process(slot, changes, out);
            if (!s.ok()) {
              std::fprintf(stderr, "query failed: %s\n", s.ToString().c_str());
              std::exit(1);
            }
            if (i + 1 == plans->size()) {
              outputs += out.size();
              rows += NetRows(out);
            } else if (!out.empty()) {
              feed((*plans)[i]->into, out);
            }
          }
        }
      };
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < ops.size(); ++i) {
    std::vector<Operation> started;
    ops[i].Start(started);
    if (i + 1 < ops.size() && !started.empty()) feed((*plans)[i]->into, started);
  }
  Generate(events, [&](int t, std::vector<Operation>& batch) { feed(kTables[t], batch); });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, outputs, rows};
}

// The same events as CSV (header row; timestamps without zone, UTC), so DuckDB and
// PostgreSQL can load exactly what the streaming run processed.
int Dump(const std::string& dir, uint64_t events) {
  const char* names[] = {"person", "auction", "bid"};
  std::FILE* files[3];
  for (int t = 0; t < 3; ++t) {
    files[t] = std::fopen((dir + "/" + names[t] + ".csv").c_str(), "w");
    if (!files[t]) {
      std::perror(dir.c_str());
      return 1;
    }
    Schema schema = NexmarkGenerator::SchemaOf(NexmarkGenerator::Table(t));
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      std::fprintf(files[t], "%s%s", i ? "," : "", schema.fields[i].name.c_str());
    }
    std::fputc('\n', files[t]);
  }
  NexmarkGenerator generator(1);
  Record record;
  std::string line;
  for (uint64_t e = 0; e < events; ++e) {
    int t = int(NexmarkGenerator::TableOf(e));
    Schema schema = NexmarkGenerator::SchemaOf(NexmarkGenerator::Table(t));
    generator.Generate(e, record);
    line.clear();
    for (size_t i = 0; i < record.size(); ++i) {
      if (i) line.push_back(',');
      if (schema.fields[i].type == FieldType::kTimestamp) {
        std::string ts = FormatTimestamp(record[i].as_int());  // ...T...Z
        ts[10] = ' ';
        ts.pop_back();
        line += ts;
      } else if (schema.fields[i].type == FieldType::kInt) {
        line += std::to_string(record[i].as_int());
      } else {
        line += '"' + record[i].as_string() + '"';  // generated text has no quotes
      }
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), files[t]);
  }
  for (auto* f : files) std::fclose(f);
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  uint64_t events = 10'000'000;
  int runs = 3;
  bool run_inline = false;
  std::vector<std::string> wanted;
  std::string dump_dir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dump") && i + 1 < argc) {
      dump_dir = argv[++i];
      continue;
    }
    if (!std::strcmp(argv[i], "--events") && i + 1 < argc) {
      events = std::stoull(argv[++i]);
    } else if (!std::strcmp(argv[i], "--inline")) {
      run_inline = true;
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::stoi(argv[++i]);
    } else {
      wanted.push_back(argv[i]);
    }
  }
  if (!dump_dir.empty()) return Dump(dump_dir, events);
  if (wanted.empty()) {
    for (const auto& [name, sql] : NexmarkQueries()) wanted.push_back(name);
  }
  for (const auto& name : wanted) {
    auto it = NexmarkQueries().find(name);
    if (it == NexmarkQueries().end()) {
      std::fprintf(stderr, "unknown query %s\n", name.c_str());
      return 2;
    }
    std::vector<double> rates;
    uint64_t outputs = 0;
    int64_t rows = 0;
    for (int r = 0; r < runs; ++r) {
      Result result =
          run_inline ? RunQueryInline(it->second, events) : RunQuery(it->second, events);
      rates.push_back(double(events) / result.seconds);
      outputs = result.output_changes;
      rows = result.output_rows;
    }
    std::sort(rates.begin(), rates.end());
    std::printf(
        "%s: median %.0f events/s over %d runs of %llu events (%llu output changes, %lld rows)\n",
        name.c_str(), rates[rates.size() / 2], runs, (unsigned long long)events,
        (unsigned long long)outputs, (long long)rows);
    std::fflush(stdout);
  }
  return 0;
}
