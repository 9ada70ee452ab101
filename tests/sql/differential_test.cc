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

// Loads the current rows of t and u into PostgreSQL (once per comparison point).
void LoadPostgres(PgConnection& pg, const std::vector<Record>& table,
                  const std::vector<Record>& other) {
  std::string load = "BEGIN; TRUNCATE t; TRUNCATE u;";
  load += InsertRows("t", TableSchema(), table);
  load += InsertRows("u", OtherSchema(), other);
  Status s = pg.Exec(load + " COMMIT;");
  ASSERT_TRUE(s.ok()) << "loading PostgreSQL: " << s.message();
}

// PostgreSQL's answer to `st` over the loaded rows, one canonical line per row, sorted.
std::vector<std::string> PostgresRows(PgConnection& pg, const Statement& st,
                                      const Schema& out_schema) {
  Status s =
      pg.Exec("DROP TABLE IF EXISTS out; " + (st.postgres_sql.empty() ? st.sql : st.postgres_sql));
  if (!s.ok()) {
    ADD_FAILURE() << st.file << ":" << st.line << ": PostgreSQL failed: " << s.message();
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

// The INTO table statement `i` of a mix writes: each writes its own ("out" in the corpus).
std::string MixTable(size_t i) { return "out_" + std::to_string(i); }

std::string WithInto(const std::string& sql, const std::string& table) {
  std::string out = sql;
  size_t at = out.find(" INTO out ");
  if (at != std::string::npos) out.replace(at, 10, " INTO " + table + " ");
  return out;
}

// Runs `statements` together in ONE dataflow graph (one config's sql: — bugs hide in
// combinations) while a random stream of inserts, updates and deletes of t and u flows
// through it; at several points every statement's maintained output must equal PostgreSQL's
// answer over the same rows.
void RunMix(PgConnection& pg, const std::vector<Statement>& statements, uint32_t seed) {
  std::string script;
  bool reads_u = false;
  for (size_t i = 0; i < statements.size(); ++i) {
    script += WithInto(statements[i].sql, MixTable(i));
    reads_u = reads_u || statements[i].sql.find(" u") != std::string::npos;
  }
  TableCatalog catalog{{"t", TableSchema()}, {"u", OtherSchema()}};
  const int first_line = statements.size() == 1 ? statements[0].line : 1;
  auto plans = BindSqlScript(script, first_line, catalog);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  // Internal statements (WITH, subqueries, set-operation sides) come first; changes flow from
  // t/u through the same threaded DataflowGraph the pipeline runs (column pruning across
  // statements included). Every statement's output goes into one channel, tagged.
  BoundedChannel<std::pair<size_t, FlowBatch>> results(1024);  // outlives the graph's threads
  std::mutex error_mu;
  Status failure;
  DataflowGraph graph(std::move(*plans));
  std::vector<const BoundSelect*> outputs;
  for (size_t i = 0; i < statements.size(); ++i) {
    auto at = graph.StatementOf(MixTable(i));
    ASSERT_TRUE(at.has_value()) << MixTable(i);
    outputs.push_back(&graph.plan(*at));
    graph.AttachOutput(*at, {[&results, i](FlowBatch b) {
                               return results.Push({i, std::move(b)});
                             },
                             [&] {}});
  }
  graph.Start([&](const BoundSelect& plan, const char* stage, const Status& s) {
    std::lock_guard lock(error_mu);
    if (failure.ok()) {
      failure = Status(s.code(), plan.into + " " + std::string(stage) + ": " + s.message());
    }
  });
  uint64_t seq = 0;
  // Per statement, its maintained output: canonical row -> copies.
  std::vector<std::map<std::string, int64_t>> maintained(statements.size());
  auto apply = [&](size_t i, const std::vector<Operation>& changes) {
    auto key = [&](const Record& r) {
      std::string line;
      for (size_t c = 0; c < r.size(); ++c) {
        line += Canonical(outputs[i]->output_schema.fields[c].type, r[c]) + "|";
      }
      return line;
    };
    for (const auto& op : changes) {
      if (op.kind != OpKind::kInsert && --maintained[i][key(op.old_record)] == 0)
        maintained[i].erase(key(op.old_record));
      if (op.kind != OpKind::kDelete) ++maintained[i][key(op.new_record)];
    }
  };
  // Pushes one batch of `table` and applies every output change it caused (each input batch
  // comes out once per path to an output).
  auto feed = [&](const std::string& table, std::vector<Operation> batch) -> Status {
    auto shared = std::make_shared<OperationBatch>();
    shared->ops = std::move(batch);
    if (!graph.Push(table, FlowBatch{0, seq++, shared, 0})) return Internal("graph stopped");
    for (size_t n = graph.OutputPaths(table); n > 0; --n) {
      // A bound instead of a hang when a statement loses a batch (a test deadline, not a sleep).
      auto out = results.PopFor(std::chrono::seconds(60));
      if (!out) return Internal("no output within 60 s: a statement lost a batch");
      apply(out->first, out->second.batch->ops);
    }
    std::lock_guard lock(error_mu);
    return failure;
  };
  // Empty first batches let statements publish their initial rows, as sources do.
  ASSERT_TRUE(feed("t", {}).ok());
  ASSERT_TRUE(feed("u", {}).ok());
  std::mt19937 rng(seed);
  std::vector<Record> tables[2];  // t and u
  for (int round = 1; round <= 30; ++round) {
    // Each batch changes one table; it reaches every FROM slot that reads that table.
    const int which = reads_u ? int(rng() % 2) : 0;
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
    Status s = feed(which == 0 ? "t" : "u", batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (round != 3 && round != 12 && round != 30) continue;
    LoadPostgres(pg, tables[0], tables[1]);
    for (size_t i = 0; i < statements.size(); ++i) {
      const Statement& st = statements[i];
      SCOPED_TRACE(st.file + ":" + std::to_string(st.line) + ": " + st.sql);
      std::vector<std::string> ours;
      for (const auto& [row, n] : maintained[i]) {
        ASSERT_GT(n, 0) << "negative multiplicity for " << row;
        for (int64_t c = 0; c < n; ++c) ours.push_back(row);
      }
      auto theirs = PostgresRows(pg, st, outputs[i]->output_schema);
      ASSERT_EQ(ours, theirs) << "after round " << round << " with " << tables[0].size() << " + "
                              << tables[1].size() << " rows, in a mix of " << statements.size()
                              << " statement(s)";
    }
  }
}

TEST_F(Differential, CorpusMatchesPostgres) {
  auto corpus = LoadCorpus();
  ASSERT_GE(corpus.size(), 50u);
  for (size_t q = 0; q < corpus.size(); ++q) {
    SCOPED_TRACE(corpus[q].file + ":" + std::to_string(corpus[q].line));
    RunMix(*pg_, {corpus[q]}, uint32_t(1000 + q));
    if (HasFatalFailure()) return;
  }
}

// The whole corpus as one config: every statement's internal tables, threads and outputs live
// side by side in one graph, as they do in a pipeline.
TEST_F(Differential, WholeCorpusInOneGraphMatchesPostgres) { RunMix(*pg_, LoadCorpus(), 7); }

// Random mixes of a few statements each, with other change streams.
TEST_F(Differential, RandomMixesMatchPostgres) {
  const auto corpus = LoadCorpus();
  std::mt19937 rng(11);
  for (int mix = 0; mix < 12; ++mix) {
    std::vector<Statement> statements;
    for (int n = 2 + int(rng() % 5); n > 0; --n)
      statements.push_back(corpus[rng() % corpus.size()]);
    RunMix(*pg_, statements, uint32_t(5000 + mix));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace sluice
