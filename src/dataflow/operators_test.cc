// Each operator alone against a recompute-from-scratch reference: after every random batch of
// inserts, updates and deletes, the output maintained incrementally must equal the output of
// a fresh operator fed the whole current table.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "dataflow/statement_operators.h"
#include "sql/binder.h"

namespace sluice {
namespace {

using Multiset = std::map<std::string, int64_t>;

std::string Show(const Record& r) {
  std::string s;
  for (const auto& v : r) s += v.DebugString() + "|";
  return s;
}

void ApplyTo(Multiset& m, const std::vector<Operation>& ops) {
  for (const auto& op : ops) {
    if (op.kind != OpKind::kInsert) {
      if (--m[Show(op.old_record)] == 0) m.erase(Show(op.old_record));
    }
    if (op.kind != OpKind::kDelete) ++m[Show(op.new_record)];
  }
  for (auto& [row, n] : m) EXPECT_GT(n, 0) << "deleted a row that was not there: " << row;
}

std::unique_ptr<BoundSelect> Bind(const std::string& sql) {
  TableCatalog catalog;
  catalog["t"] = Schema{{{"k", FieldType::kInt, true},
                         {"v", FieldType::kInt, true},
                         {"f", FieldType::kFloat, true},
                         {"s", FieldType::kString, true}},
                        {}};
  auto plans = BindSqlScript(sql, 1, catalog);
  EXPECT_TRUE(plans.ok()) << plans.status().ToString();
  // One statement only: subqueries become extra statements, which the differential test
  // (tests/sql) routes between; here each operator is checked alone.
  EXPECT_EQ(plans->size(), 1u) << sql;
  return std::move((*plans)[0]);
}

// A statement's operator chain, as the pipeline builds it.
struct Chain {
  std::unique_ptr<BoundSelect> plan;
  StatementOperators ops;
  explicit Chain(std::unique_ptr<BoundSelect> p)
      : plan(std::move(p)), ops(BuildStatementOperators(*plan)) {}
  std::vector<Operation> Start() {
    std::vector<Operation> out;
    ops.Start(out);
    return out;
  }
  // Feeds the changes to every input slot that reads t (self-joins read it twice).
  std::vector<Operation> Run(std::vector<Operation> in) {
    std::vector<Operation> out;
    const auto tables = plan->InputTables();
    for (size_t slot = 0; slot < tables.size(); ++slot) {
      if (tables[slot] == "t") {
        EXPECT_TRUE(ops.Process(slot, in, out).ok());
      }
    }
    return out;
  }
};

Record RandomRow(std::mt19937& rng) {
  auto maybe_null = [&](Value v) { return rng() % 6 == 0 ? Value::Null() : v; };
  return {maybe_null(Value(int64_t(rng() % 4))), maybe_null(Value(int64_t(rng() % 100) - 50)),
          maybe_null(Value(double(rng() % 1000) / 8)),
          maybe_null(Value(std::string(1, char('a' + rng() % 3))))};
}

void CheckAgainstRecompute(const std::string& sql, uint32_t seed) {
  std::mt19937 rng(seed);
  Chain incremental(Bind(sql));
  Multiset maintained;
  ApplyTo(maintained, incremental.Start());
  std::vector<Record> table;
  for (int round = 0; round < 40; ++round) {
    std::vector<Operation> batch;
    for (int i = 0; i < 8; ++i) {
      int action = int(rng() % 3);
      if (action == 0 || table.empty()) {
        Record r = RandomRow(rng);
        table.push_back(r);
        batch.push_back(Operation::Insert(r));
      } else if (action == 1) {
        size_t at = rng() % table.size();
        batch.push_back(Operation::Delete(table[at]));
        table.erase(table.begin() + long(at));
      } else {
        size_t at = rng() % table.size();
        Record r = RandomRow(rng);
        batch.push_back(Operation::Update(table[at], r));
        table[at] = r;
      }
    }
    ApplyTo(maintained, incremental.Run(batch));

    Chain fresh(Bind(sql));
    Multiset expected;
    ApplyTo(expected, fresh.Start());
    std::vector<Operation> all;
    for (const auto& r : table) all.push_back(Operation::Insert(r));
    ApplyTo(expected, fresh.Run(all));
    ASSERT_EQ(maintained, expected) << sql << " round " << round;
  }
}

TEST(Operators, MapFilterMatchesRecompute) {
  CheckAgainstRecompute("SELECT k, v * 2 AS w, upper(s) INTO o FROM t WHERE v > 0 OR s = 'a'", 1);
  CheckAgainstRecompute("SELECT * INTO o FROM t WHERE k IS NOT NULL AND f BETWEEN 10 AND 90", 2);
}

TEST(Operators, AggregateMatchesRecompute) {
  CheckAgainstRecompute(
      "SELECT k, count(*) AS n, count(v), sum(v), avg(v), min(v), max(v), sum(f) AS sf, min(s) AS "
      "ms INTO o "
      "FROM t GROUP BY k",
      3);
  CheckAgainstRecompute(
      "SELECT s, count(*) FILTER (WHERE v > 0) AS pos, bool_and(v > 0) INTO o FROM t "
      "WHERE k <> 2 GROUP BY s HAVING count(*) > 1",
      4);
  CheckAgainstRecompute(
      "SELECT k + 1 AS k1, max(v) - min(v) AS spread INTO o FROM t GROUP BY k + 1", 5);
}

TEST(Operators, JoinsMatchRecompute) {
  CheckAgainstRecompute("SELECT a.v AS av, b.v AS bv INTO o FROM t a JOIN t b ON a.k = b.k", 6);
  CheckAgainstRecompute(
      "SELECT a.k, a.v AS av, b.v AS bv INTO o FROM t a LEFT JOIN t b ON a.k = b.k AND a.v < b.v",
      7);
  CheckAgainstRecompute(
      "SELECT a.s AS sa, b.s AS sb INTO o FROM t a FULL JOIN t b ON a.v = b.k AND a.f > b.f", 8);
}

TEST(Operators, SetOperationsTopNAndRankingMatchRecompute) {
  CheckAgainstRecompute("SELECT DISTINCT k, s INTO o FROM t", 9);
  CheckAgainstRecompute("SELECT k, v, s INTO o FROM t ORDER BY v DESC, k LIMIT 4 OFFSET 1", 10);
  CheckAgainstRecompute(
      "SELECT k, v, rank() OVER (PARTITION BY k ORDER BY v) AS r, "
      "row_number() OVER (PARTITION BY k ORDER BY v) AS rn INTO o FROM t",
      11);
}

TEST(Operators, AggregateWithoutGroupByHasOneRowAlsoWhenEmpty) {
  Chain chain(Bind("SELECT count(*), sum(v), max(s) INTO o FROM t"));
  Multiset m;
  ApplyTo(m, chain.Start());
  EXPECT_EQ(m, (Multiset{{"0|NULL|NULL|", 1}}));
  Record r{Value(int64_t{1}), Value(int64_t{5}), Value(1.0), Value("x")};
  ApplyTo(m, chain.Run({Operation::Insert(r)}));
  EXPECT_EQ(m, (Multiset{{"1|5|'x'|", 1}}));
  ApplyTo(m, chain.Run({Operation::Delete(r)}));
  EXPECT_EQ(m, (Multiset{{"0|NULL|NULL|", 1}}));
}

TEST(Operators, MaxStaysCorrectWhenTheExtremeIsDeleted) {
  Chain chain(Bind("SELECT k, max(v) INTO o FROM t GROUP BY k"));
  Multiset m;
  auto row = [](int64_t v) {
    return Record{Value(int64_t{1}), Value(v), Value::Null(), Value::Null()};
  };
  ApplyTo(m, chain.Run({Operation::Insert(row(5)), Operation::Insert(row(9)),
                        Operation::Insert(row(9))}));
  EXPECT_EQ(m, (Multiset{{"1|9|", 1}}));
  ApplyTo(m, chain.Run({Operation::Delete(row(9))}));
  EXPECT_EQ(m, (Multiset{{"1|9|", 1}}));  // one copy of 9 is left
  ApplyTo(m, chain.Run({Operation::Delete(row(9))}));
  EXPECT_EQ(m, (Multiset{{"1|5|", 1}}));
  ApplyTo(m, chain.Run({Operation::Delete(row(5))}));
  EXPECT_TRUE(m.empty());  // the group is gone
}

}  // namespace
}  // namespace sluice
