// Differential testing against a real PostgreSQL 15: for every statement of the corpus files,
// a random stream of inserts, updates and deletes (NULLs, duplicates, skewed keys, key
// changes) runs through the statement's incremental operators; at several points the
// materialized output is compared with what PostgreSQL computes for the same statement over
// the same current rows. Multiset equality; floats within ~1e-10 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "common/bounded_channel.h"
#include "dataflow/dataflow_graph.h"
#include "postgres_server.h"
#include "sql/binder.h"
#include "types/json_text.h"
#include "types/time_util.h"

namespace sluice {
namespace {

using testing::PgConnection;
using testing::PostgresServer;

// The second table, for joins: u(k bigint, w bigint, s text).
const Schema& OtherSchema() {
  static const Schema schema{
      {{"k", FieldType::kInt, true}, {"w", FieldType::kInt, true}, {"s", FieldType::kString, true}},
      {}};
  return schema;
}

const Schema& TableSchema() {
  static const Schema schema{{{"k", FieldType::kInt, true},
                              {"v", FieldType::kInt, true},
                              {"f", FieldType::kFloat, true},
                              {"s", FieldType::kString, true},
                              {"n", FieldType::kDecimal, true},
                              {"b", FieldType::kBoolean, true},
                              {"ts", FieldType::kTimestamp, true},
                              {"j", FieldType::kJson, true}},
                             {}};
  return schema;
}

struct Statement {
  std::string file;
  int line;
  std::string sql;
  std::string postgres_sql;  // what PostgreSQL runs instead, for syntax it lacks (TUMBLE/HOP)
};

std::vector<Statement> LoadCorpus() {
  std::vector<Statement> out;
  for (const auto& entry : std::filesystem::directory_iterator(SLUICE_SQL_CORPUS_DIR)) {
    if (entry.path().extension() != ".sql") continue;
    std::ifstream in(entry.path());
    std::string line, current, postgres;
    int line_no = 0, start = 0;
    while (std::getline(in, line)) {
      ++line_no;
      // "-- postgres: <statement>" gives PostgreSQL's equivalent of the next statement.
      if (line.starts_with("-- postgres: ")) {
        postgres = line.substr(13);
        continue;
      }
      if (line.starts_with("--") || (current.empty() && line.empty())) continue;
      if (current.empty()) start = line_no;
      current += line + "\n";
      if (line.find(';') != std::string::npos) {
        out.push_back({entry.path().filename().string(), start, current, postgres});
        current.clear();
        postgres.clear();
      }
    }
  }
  return out;
}

Record RandomOtherRow(std::mt19937& rng) {
  auto maybe = [&](Value v) { return rng() % 8 == 0 ? Value::Null() : v; };
  static const char* kStrings[] = {"a", "b", "ab", "c"};
  return {maybe(Value(int64_t(rng() % 6))), maybe(Value(int64_t(rng() % 21) - 10)),
          maybe(Value(kStrings[rng() % 4]))};
}

const char* kJson[] = {R"({"a": 1, "b": "x", "c": [1, 2, {"d": true}]})",
                       R"({"b": "y", "a": 10, "a": 11})",
                       R"({"a": -2.5, "b": null, "nested": {"k": "v", "n": [3]}})",
                       R"([1, "two", {"three": 3}])",
                       R"("just text")",
                       R"({"c": [], "b": "a\"q"})",
                       R"(42)"};

Record RandomRow(std::mt19937& rng) {
  auto maybe = [&](Value v) { return rng() % 7 == 0 ? Value::Null() : v; };
  static const char* kStrings[] = {"a", "b", "ab", "B", "", "ba", "a%b", "Ab "};
  int64_t k = rng() % 2 ? 0 : int64_t(rng() % 5);  // skewed: half the rows have k = 0
  double f = rng() % 4 ? double(int64_t(rng() % 2000) - 1000) / 8 : double(rng() % 100000) / 7.0;
  std::string n = std::to_string(int64_t(rng() % 20000) - 10000);
  n.insert(n.size() - std::min<size_t>(2, n.size() - (n[0] == '-' ? 1 : 0)), ".");
  if (n.find('.') == 0 || n.find("-.") == 0) n.insert(n.find('.'), "0");
  return {maybe(Value(k)), maybe(Value(int64_t(rng() % 101) - 50)), maybe(Value(f)),
          maybe(Value(kStrings[rng() % 8])), maybe(Value(*Decimal::Parse(n))),
          maybe(Value(bool(rng() % 2))),
          // Around 2026-01-01, within ten days either way, to the microsecond.
          maybe(Value(int64_t(1767225600LL * 1'000'000 + int64_t(rng() % 1'728'000'000'000ULL) -
                              864'000'000'000LL))),
          maybe(Value(kJson[rng() % 7]))};
}

std::string SqlLiteral(FieldType type, const Value& v) {
  if (v.is_null()) return "NULL";
  switch (type) {
    case FieldType::kInt:
      return std::to_string(v.as_int());
    case FieldType::kFloat: {
      std::ostringstream s;
      s.precision(17);
      s << v.as_float();
      return "'" + s.str() + "'::float8";
    }
    case FieldType::kDecimal:
      return v.as_decimal().ToString();
    case FieldType::kBoolean:
      return v.as_bool() ? "true" : "false";
    case FieldType::kTimestamp:
      return "'" + FormatTimestamp(v.as_int()) + "'::timestamptz";
    case FieldType::kJson:
      return "'" + v.as_string() + "'::jsonb";
    default:
      return "'" + v.as_string() + "'";
  }
}

// One canonical text per value, so PostgreSQL's text output and Sluice's values compare.
std::string Canonical(FieldType type, const std::optional<std::string>& pg_text) {
  if (!pg_text) return "NULL";
  const std::string& t = *pg_text;
  switch (type) {
    case FieldType::kFloat: {
      if (t == "NaN" || t == "Infinity" || t == "-Infinity") return t;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", std::strtod(t.c_str(), nullptr) + 0.0);
      return buf;
    }
    case FieldType::kDecimal: {
      auto d = Decimal::Parse(t);
      return d.ok() ? d->Normalized().ToString() : "bad decimal " + t;
    }
    case FieldType::kBoolean:
      return t == "t" || t == "true" ? "t" : "f";
    case FieldType::kTimestamp: {
      auto micros = ParseTimestamp(t);
      return micros.ok() ? std::to_string(*micros) : "bad timestamp " + t;
    }
    case FieldType::kDate: {
      auto days = ParseDate(t);
      return days.ok() ? std::to_string(*days) : "bad date " + t;
    }
    case FieldType::kDuration: {
      auto micros = ParseDuration(t);
      return micros.ok() ? std::to_string(*micros) : "bad interval " + t;
    }
    case FieldType::kJson: {
      auto normal = NormalizeJson(t);
      return normal.ok() ? *normal : "bad json " + t;
    }
    default:
      return t;
  }
}

std::string Canonical(FieldType type, const Value& v) {
  if (v.is_null()) return "NULL";
  switch (type) {
    case FieldType::kFloat: {
      double d = v.as_float();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", d + 0.0);
      return buf;
    }
    case FieldType::kDecimal:
      return v.as_decimal().Normalized().ToString();
    case FieldType::kBoolean:
      return v.as_bool() ? "t" : "f";
    case FieldType::kInt:
    case FieldType::kTimestamp:
    case FieldType::kDate:
    case FieldType::kDuration:
      return std::to_string(v.as_int());
    case FieldType::kJson: {
      auto normal = NormalizeJson(v.as_string());
      return normal.ok() ? *normal : "bad json " + v.as_string();
    }
    default:
      return v.as_string();
  }
}

class Differential : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server).release();
    auto conn = PgConnection::Open(server_->conninfo());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    pg_ = std::move(*conn).release();
    ASSERT_TRUE(pg_->Exec("CREATE TABLE t (k bigint, v bigint, f double precision, s text, "
                          "n numeric, b boolean, ts timestamptz, j jsonb); CREATE TABLE u (k "
                          "bigint, w bigint, s text)")
                    .ok());
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete server_;
  }

  static PostgresServer* server_;
  static PgConnection* pg_;
};

PostgresServer* Differential::server_ = nullptr;
PgConnection* Differential::pg_ = nullptr;

std::string InsertRows(const std::string& table, const Schema& schema,
                       const std::vector<Record>& rows) {
  if (rows.empty()) return "";
  std::string sql = "INSERT INTO " + table + " VALUES ";
  for (size_t i = 0; i < rows.size(); ++i) {
    sql += i ? ",(" : "(";
    for (size_t c = 0; c < rows[i].size(); ++c) {
      sql += (c ? "," : "") + SqlLiteral(schema.fields[c].type, rows[i][c]);
    }
    sql += ")";
  }
  return sql + ";";
}

std::vector<std::string> PostgresRows(PgConnection& pg, const Statement& st,
                                      const std::vector<Record>& table,
                                      const std::vector<Record>& other, const Schema& out_schema) {
  std::string load = "BEGIN; TRUNCATE t; TRUNCATE u; DROP TABLE IF EXISTS out;";
  load += InsertRows("t", TableSchema(), table);
  load += InsertRows("u", OtherSchema(), other);
  load += (st.postgres_sql.empty() ? st.sql : st.postgres_sql) + " COMMIT;";
  Status s = pg.Exec(load);
  if (!s.ok()) {
    ADD_FAILURE() << st.file << ":" << st.line << ": PostgreSQL failed: " << s.message();
    (void)pg.Exec("ROLLBACK");
    return {};
  }
  auto rows = pg.Query("SELECT * FROM out");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> out;
  for (const auto& row : *rows) {
    std::string line;
    for (size_t c = 0; c < row.size() && c < out_schema.fields.size(); ++c) {
      line += Canonical(out_schema.fields[c].type, row[c]) + "|";
    }
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(Differential, CorpusMatchesPostgres) {
  auto corpus = LoadCorpus();
  ASSERT_GE(corpus.size(), 50u);
  for (size_t q = 0; q < corpus.size(); ++q) {
    const Statement& st = corpus[q];
    SCOPED_TRACE(st.file + ":" + std::to_string(st.line) + ": " + st.sql);
    TableCatalog catalog{{"t", TableSchema()}, {"u", OtherSchema()}};
    auto plans = BindSqlScript(st.sql, st.line, catalog);
    ASSERT_TRUE(plans.ok()) << plans.status().ToString();
    // Internal statements (WITH, subqueries, set-operation sides) come first; the last one is
    // the statement's own. Changes flow from t/u through the same threaded DataflowGraph the
    // pipeline runs (column pruning across statements included).
    BoundedChannel<FlowBatch> results(1024);  // outlives the graph, whose threads push into it
    std::mutex error_mu;
    Status failure;
    DataflowGraph graph(std::move(*plans));
    const size_t last = graph.statement_count() - 1;
    const BoundSelect& plan = graph.plan(last);
    graph.AttachOutput(
        last, {[&](FlowBatch b) { return results.Push(std::move(b)); }, [&] { results.Close(); }});
    graph.Start([&](const BoundSelect&, const char* stage, const Status& s) {
      std::lock_guard lock(error_mu);
      if (failure.ok()) failure = Status(s.code(), std::string(stage) + ": " + s.message());
    });
    uint64_t seq = 0;
    // Pushes one batch of `table` and returns every output change it caused (each input batch
    // comes out once per path to the output).
    auto feed = [&](const std::string& table, std::vector<Operation> batch,
                    std::vector<Operation>& final_out) -> Status {
      auto shared = std::make_shared<OperationBatch>();
      shared->ops = std::move(batch);
      if (!graph.Push(table, FlowBatch{0, seq++, shared, 0})) return Internal("graph stopped");
      for (size_t n = graph.OutputPaths(table); n > 0; --n) {
        auto out = results.Pop();
        if (!out) return Internal("output closed");
        final_out.insert(final_out.end(), out->batch->ops.begin(), out->batch->ops.end());
      }
      std::lock_guard lock(error_mu);
      return failure;
    };
    std::map<std::string, int64_t> maintained;
    auto apply = [&](const std::vector<Operation>& changes) {
      for (const auto& op : changes) {
        auto key = [&](const Record& r) {
          std::string line;
          for (size_t c = 0; c < r.size(); ++c) {
            line += Canonical(plan.output_schema.fields[c].type, r[c]) + "|";
          }
          return line;
        };
        if (op.kind != OpKind::kInsert && --maintained[key(op.old_record)] == 0)
          maintained.erase(key(op.old_record));
        if (op.kind != OpKind::kDelete) ++maintained[key(op.new_record)];
      }
    };
    // Empty first batches let statements publish their initial rows, as sources do.
    std::vector<Operation> started;
    ASSERT_TRUE(feed("t", {}, started).ok());
    ASSERT_TRUE(feed("u", {}, started).ok());
    apply(started);
    std::mt19937 rng(uint32_t(1000 + q));
    std::vector<Record> tables[2];  // t and u
    for (int round = 1; round <= 30; ++round) {
      // Each batch changes one table; it reaches every FROM slot that reads that table.
      const int which = st.sql.find(" u") != std::string::npos ? int(rng() % 2) : 0;
      std::vector<Record>& table = tables[which];
      auto random_row = [&] { return which == 0 ? RandomRow(rng) : RandomOtherRow(rng); };
      std::vector<Operation> batch;
      int size = 1 + int(rng() % 12);
      for (int i = 0; i < size; ++i) {
        int action = int(rng() % 10);
        if (action < 5 || table.empty()) {
          Record r = rng() % 5 == 0 && !table.empty() ? table[rng() % table.size()] : random_row();
          table.push_back(r);  // sometimes an exact duplicate
          batch.push_back(Operation::Insert(std::move(r)));
        } else if (action < 7) {
          size_t at = rng() % table.size();
          batch.push_back(Operation::Delete(table[at]));
          table.erase(table.begin() + long(at));
        } else {
          size_t at = rng() % table.size();
          Record r = table[at];
          size_t column = rng() % r.size();  // change one column (maybe a key)
          r[column] = random_row()[column];
          batch.push_back(Operation::Update(table[at], r));
          table[at] = std::move(r);
        }
      }
      std::vector<Operation> changes;
      Status s = feed(which == 0 ? "t" : "u", batch, changes);
      ASSERT_TRUE(s.ok()) << s.ToString();
      apply(changes);
      if (round == 3 || round == 12 || round == 30) {
        std::vector<std::string> ours;
        for (const auto& [row, n] : maintained) {
          ASSERT_GT(n, 0) << "negative multiplicity for " << row;
          for (int64_t i = 0; i < n; ++i) ours.push_back(row);
        }
        std::sort(ours.begin(), ours.end());
        auto theirs = PostgresRows(*pg_, st, tables[0], tables[1], plan.output_schema);
        ASSERT_EQ(ours, theirs) << "after round " << round << " with " << tables[0].size() << " + "
                                << tables[1].size() << " rows";
      }
    }
  }
}

}  // namespace
}  // namespace sluice
