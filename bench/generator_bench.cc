// How fast the Nexmark generator makes events on one core (the issue asks for several
// million per second): the generator must never be what limits an ingest benchmark.
#include <benchmark/benchmark.h>

#include "connectors/generator/nexmark_generator.h"

namespace sluice {
namespace {

void BM_NexmarkEvents(benchmark::State& state) {
  NexmarkGenerator generator(1);
  Record record;
  uint64_t event = 0;
  for (auto _ : state) {
    generator.Generate(event++, record);
    benchmark::DoNotOptimize(record.data());
  }
  state.SetItemsProcessed(int64_t(event));
}
BENCHMARK(BM_NexmarkEvents);

}  // namespace
}  // namespace sluice
