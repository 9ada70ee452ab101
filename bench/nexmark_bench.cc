// Nexmark through Sluice's incremental operators: the generator's events, in batches, are fed
// to every statement of a query (internal ones included) and the output is counted and
// dropped (a null sink). Prints events/s per query.
// Usage: nexmark_bench [--events N] [--runs R] [q0 q1 ...]
//        nexmark_bench --dump DIR [--events N]   (writes person/auction/bid.csv for the peers)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "connectors/generator/nexmark_generator.h"
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
};

Result RunQuery(const std::string& sql, uint64_t events) {
  TableCatalog catalog;
  const char* names[] = {"person", "auction", "bid"};
  for (int t = 0; t < 3; ++t) {
    catalog[names[t]] = NexmarkGenerator::SchemaOf(NexmarkGenerator::Table(t));
  }
  auto plans = BindSqlScript(sql, 1, catalog);
  if (!plans.ok()) {
    std::fprintf(stderr, "cannot bind: %s\n", plans.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<StatementOperators> ops;
  for (const auto& p : *plans) ops.push_back(BuildStatementOperators(*p));
  uint64_t outputs = 0;
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
            } else if (!out.empty()) {
              feed((*plans)[i]->into, out);
            }
          }
        }
      };
  NexmarkGenerator generator(1);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < ops.size(); ++i) {
    std::vector<Operation> started;
    ops[i].Start(started);
    if (i + 1 < ops.size() && !started.empty()) feed((*plans)[i]->into, started);
  }
  std::vector<Operation> batches[3];
  for (uint64_t first = 0; first < events; first += kBatchEvents) {
    for (auto& b : batches) b.clear();
    for (uint64_t e = first; e < std::min(events, first + kBatchEvents); ++e) {
      Operation op;
      generator.Generate(e, op.new_record);
      batches[int(NexmarkGenerator::TableOf(e))].push_back(std::move(op));
    }
    for (int t = 0; t < 3; ++t) {
      if (!batches[t].empty()) feed(names[t], batches[t]);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, outputs};
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
  std::vector<std::string> wanted;
  std::string dump_dir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dump") && i + 1 < argc) {
      dump_dir = argv[++i];
      continue;
    }
    if (!std::strcmp(argv[i], "--events") && i + 1 < argc) {
      events = std::stoull(argv[++i]);
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
    for (int r = 0; r < runs; ++r) {
      Result result = RunQuery(it->second, events);
      rates.push_back(double(events) / result.seconds);
      outputs = result.output_changes;
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%s: median %.0f events/s over %d runs of %llu events (%llu output changes)\n",
                name.c_str(), rates[rates.size() / 2], runs, (unsigned long long)events,
                (unsigned long long)outputs);
    std::fflush(stdout);
  }
  return 0;
}
