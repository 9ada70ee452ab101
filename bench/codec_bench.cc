// Row and key encoding of a Nexmark bid: the sink's per-row work during ingest.
#include <benchmark/benchmark.h>

#include "connectors/generator/nexmark_generator.h"
#include "types/key_codec.h"
#include "types/row_codec.h"
#include "types/row_json.h"

namespace sluice {
namespace {

Record SampleBid() {
  Record r;
  NexmarkGenerator(1).Generate(10, r);
  return r;
}

void BM_EncodeBidRow(benchmark::State& state) {
  Schema schema = NexmarkGenerator::SchemaOf(NexmarkGenerator::Table::kBid);
  Record bid = SampleBid();
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeRow(schema, bid, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeBidRow);

// Prints `record`, stored under `schema`, as the REST API does.
void RowToJson(benchmark::State& state, const Schema& schema, const Record& record) {
  std::string row;
  EncodeRow(schema, record, &row);
  auto prefixes = JsonFieldPrefixes(schema);
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(AppendRowJson(schema, row, prefixes, &out));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_BidRowToJson(benchmark::State& state) {
  RowToJson(state, NexmarkGenerator::SchemaOf(NexmarkGenerator::Table::kBid), SampleBid());
}
BENCHMARK(BM_BidRowToJson);

// A row of the Query API benchmark's orders (bench/query_api): what a range query prints 50
// times per request.
void BM_OrderRowToJson(benchmark::State& state) {
  Schema schema{.fields = {{"id", FieldType::kInt, false},
                           {"customer_id", FieldType::kInt},
                           {"created_at", FieldType::kTimestamp},
                           {"status", FieldType::kString},
                           {"total", FieldType::kDecimal},
                           {"description", FieldType::kText}},
                .primary_key = {0}};
  Record order{Value(int64_t(123456)),
               Value(int64_t(4711)),
               Value(int64_t(1700000123456789)),
               Value("shipped"),
               Value(*Decimal::Parse("1234.56")),
               Value("vode fegi lamuzo covazezo huvavoho tanekipi")};
  RowToJson(state, schema, order);
}
BENCHMARK(BM_OrderRowToJson);

}  // namespace
}  // namespace sluice
