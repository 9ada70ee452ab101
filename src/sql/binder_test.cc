#include "sql/binder.h"

#include <gtest/gtest.h>

#include <set>

namespace sluice {
namespace {

TableCatalog Catalog() {
  TableCatalog c;
  c["bid"] = Schema{{{"auction", FieldType::kInt, false},
                     {"bidder", FieldType::kInt, false},
                     {"price", FieldType::kInt, false},
                     {"channel", FieldType::kString, false},
                     {"date_time", FieldType::kTimestamp, false}},
                    {}};
  return c;
}

Status BindError(const std::string& sql) {
  TableCatalog c = Catalog();
  auto r = BindSqlScript(sql, 1, c);
  return r.ok() ? Status::OK() : r.status();
}

TEST(Binder, BindsProjectionsFiltersAndNames) {
  TableCatalog c = Catalog();
  auto r = BindSqlScript(
      "SELECT auction, price * 2 AS doubled, lower(channel), price / 3, 1.5 AS c INTO q1 FROM bid "
      "WHERE price > 10 AND channel LIKE 'G%'",
      1, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BoundSelect& s = *(*r)[0];
  EXPECT_FALSE(s.aggregated);
  std::vector<std::string> names;
  for (const auto& f : s.output_schema.fields) names.push_back(f.name);
  EXPECT_EQ(names, std::vector<std::string>({"auction", "doubled", "lower", "?column?", "c"}));
  EXPECT_EQ(s.output_schema.fields[1].type, FieldType::kInt);
  EXPECT_EQ(s.output_schema.fields[4].type, FieldType::kDecimal);
  EXPECT_TRUE(c.count("q1"));
}

// Ranking outputs are columns past the input; their nullability was read past the input
// schema (heap-buffer-overflow under ASan). They are never NULL.
TEST(Binder, RankingOutputsAreNotNull) {
  TableCatalog c = Catalog();
  auto r = BindSqlScript(
      "SELECT auction, price, rank() OVER (PARTITION BY auction ORDER BY price) AS r, "
      "row_number() OVER (PARTITION BY auction ORDER BY price) AS n INTO ranked FROM bid",
      1, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Schema& out = c.at("ranked");
  ASSERT_EQ(out.fields.size(), 4u);
  EXPECT_EQ(out.fields[2].name, "r");
  EXPECT_FALSE(out.fields[2].nullable);
  EXPECT_FALSE(out.fields[3].nullable);
}

TEST(Binder, GroupByMakesTheKeysThePrimaryKey) {
  TableCatalog c = Catalog();
  auto r = BindSqlScript(
      "SELECT auction, count(*), sum(price), avg(price), max(price) INTO q2 FROM bid GROUP BY "
      "auction HAVING count(*) > 1",
      1, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BoundSelect& s = *(*r)[0];
  EXPECT_TRUE(s.aggregated);
  EXPECT_EQ(s.output_schema.primary_key, std::vector<size_t>{0});
  EXPECT_EQ(s.output_schema.fields[1].name, "count");
  EXPECT_EQ(s.output_schema.fields[2].type, FieldType::kDecimal);  // sum(bigint) is numeric
  EXPECT_EQ(s.aggregates.size(), 5u);  // HAVING's count(*) is computed too
}

TEST(Binder, ErrorsNameTheConstructAndPosition) {
  auto expect = [](const std::string& sql, const std::string& fragment) {
    Status s = BindError(sql);
    ASSERT_FALSE(s.ok()) << sql;
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  };
  expect("SELECT auction INTO t FROM bid\nWHERE nope = 1", "column \"nope\" does not exist in bid");
  expect("SELECT auction INTO t FROM bid\nWHERE nope = 1", "at 2:7");
  expect("SELECT lag(price) OVER (ORDER BY auction) INTO t FROM bid",
         "window function lag() is not supported at 1:8");
  expect("SELECT auction, price INTO t FROM bid GROUP BY auction",
         "column \"price\" must appear in the GROUP BY clause");
  expect("SELECT auction INTO t FROM missing", "relation \"missing\" does not exist at 1:28");
  expect("SELECT auction FROM bid", "no INTO");
  expect("SELEC auction", "syntax error at or near \"SELEC\" at 1:1");
  expect("SELECT a.auction INTO t FROM bid b", "missing FROM-clause entry for table \"a\"");
  expect("SELECT channel + 1 INTO t FROM bid", "operator does not exist: string + int");
  expect("SELECT auction INTO t FROM bid WHERE count(*) > 1", "not allowed in WHERE");
  expect("SELECT auction, auction INTO t FROM bid", "specified more than once");
}

// Internal tables (set-operation sides, subqueries, WITH) of different statements of one
// script never share a name: two statements writing one table crashed or doubled rows.
TEST(Binder, InternalTablesAreUniqueAcrossStatements) {
  TableCatalog c = Catalog();
  auto r = BindSqlScript(
      "SELECT channel AS v INTO a FROM bid UNION SELECT channel FROM bid;\n"
      "SELECT bidder AS v INTO b FROM bid EXCEPT SELECT auction FROM bid;\n"
      "WITH w AS (SELECT auction FROM bid) SELECT auction INTO c1 FROM w;\n"
      "WITH w AS (SELECT bidder FROM bid) SELECT x.bidder INTO c2 FROM (SELECT * FROM w) x",
      1, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<std::string> names;
  for (const auto& plan : *r) {
    EXPECT_TRUE(names.insert(plan->into).second) << "two statements write " << plan->into;
  }
  EXPECT_EQ(names.size(), r->size());
  EXPECT_TRUE(names.count("#a.left1")) << "internal names say whose they are";
}

TEST(Binder, RefusesIntoTablesThatLookInternal) {
  Status s = BindError("SELECT auction INTO \"#a.left1\" FROM bid");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("internal"), std::string::npos) << s.message();
}

// PostgreSQL accepts columns functionally dependent on a grouped primary key; so do we. The
// output stays keyed by the declared GROUP BY columns.
TEST(Binder, ColumnsOfAGroupedPrimaryKeyTableMayBeSelected) {
  TableCatalog c = Catalog();
  c["person"] = Schema{{{"id", FieldType::kInt, false},
                        {"name", FieldType::kString, true},
                        {"city", FieldType::kString, true}},
                       {0}};
  auto r = BindSqlScript(
      "SELECT p.id, p.name, upper(p.city) AS city, count(*) AS bids INTO per_person FROM person p "
      "JOIN bid b ON b.bidder = p.id GROUP BY p.id HAVING p.name <> 'x' ORDER BY p.name LIMIT 5",
      1, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BoundSelect& s = *r->back();
  EXPECT_EQ(s.output_schema.fields.size(), 4u);
  // Without a LIMIT the output would be keyed by p.id alone.
  auto keyed = BindSqlScript(
      "SELECT p.id, p.name, count(*) AS n INTO keyed FROM person p GROUP BY p.id", 1, c);
  ASSERT_TRUE(keyed.ok()) << keyed.status().ToString();
  EXPECT_EQ(keyed->back()->output_schema.primary_key, std::vector<size_t>({0}));
  // A column of a table whose key is not grouped stays an error, as in PostgreSQL.
  TableCatalog c2 = Catalog();
  c2["person"] = c["person"];
  auto refused = BindSqlScript(
      "SELECT p.name, b.price, count(*) INTO x FROM person p JOIN bid b ON b.bidder = p.id "
      "GROUP BY p.name",
      1, c2);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("must appear in the GROUP BY"), std::string::npos)
      << refused.status().message();
}

// What PostgreSQL refuses, Sluice refuses at check time too (never a different answer).
TEST(Binder, RefusesWhatPostgresRefuses) {
  TableCatalog c = Catalog();
  c["flags"] = Schema{{{"b", FieldType::kBoolean, true}, {"j", FieldType::kJson, true}}, {}};
  for (const char* sql : {"SELECT max(b) INTO x FROM flags", "SELECT min(j) INTO x FROM flags"}) {
    auto r = BindSqlScript(sql, 1, c);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_NE(r.status().message().find("does not exist"), std::string::npos)
        << r.status().message();
  }
}

// Type modifiers are applied as PostgreSQL applies them (tests/sql/fuzz/found/11); the corpus
// (tests/sql/corpus) checks the same against a real PostgreSQL.
TEST(Binder, CastsApplyTypeModifiers) {
  TableCatalog c = Catalog();
  auto eval = [&](const std::string& expr) -> Result<Value> {
    static int n = 0;
    TableCatalog cat = Catalog();
    auto r = BindSqlScript("SELECT " + expr + " AS v INTO m" + std::to_string(n++) + " FROM bid", 1,
                           cat);
    if (!r.ok()) return r.status();
    Record row{Value(int64_t{1}), Value(int64_t{2}), Value(int64_t{3}), Value("x"),
               Value(int64_t{1'500'000})};
    return (*r)[0]->projections[0]->Eval(row);
  };
  EXPECT_EQ(eval("CAST(0.125 AS numeric(14,2))")->as_decimal().ToString(), "0.13");
  EXPECT_EQ(eval("CAST(-0.125 AS numeric(14,2))")->as_decimal().ToString(), "-0.13");
  EXPECT_EQ(eval("CAST(7 AS numeric(5,2))")->as_decimal().ToString(), "7.00");
  EXPECT_EQ(eval("CAST(1.5 AS numeric(3))")->as_decimal().ToString(), "2");
  EXPECT_EQ(eval("CAST(1249 AS numeric(4,-2))")->as_decimal().ToString(), "1200");
  EXPECT_EQ(eval("price::numeric(6,3) / 1")->as_decimal().ToString(), "3.0000000000000000");
  EXPECT_EQ(eval("CAST(33.333333333333336::float8 AS numeric)")->as_decimal().ToString(),
            "33.3333333333333");
  auto overflow = eval("CAST(123.456 AS numeric(4,2))");
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.status().message().find("numeric field overflow"), std::string::npos);
  EXPECT_FALSE(eval("CAST(99.995 AS numeric(4,2))").ok());  // rounds to 100.00
  EXPECT_EQ(eval("CAST('héllo' AS varchar(2))")->as_string(), "hé");
  EXPECT_EQ(eval("channel::varchar(5)")->as_string(), "x");
  EXPECT_EQ(eval("CAST(date_time AS timestamp(0))")->as_int(), 2'000'000);
  for (const char* refused : {"CAST(1 AS numeric(0,2))", "CAST('a' AS varchar(0))"}) {
    auto r = eval(refused);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << refused;
  }
  EXPECT_EQ(eval("CAST('a' AS char(3))").status().code(), StatusCode::kUnimplemented);
  (void)c;
}

TEST(Binder, NegativeAndZeroConstantsSurviveTheParser) {
  TableCatalog c = Catalog();
  auto r = BindSqlScript("SELECT -2 AS a, 0 AS b, -7.5 AS c INTO t FROM bid", 1, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Record row{Value(int64_t{1}), Value(int64_t{2}), Value(int64_t{3}), Value("x"),
             Value(int64_t{0})};
  EXPECT_EQ(*(*r)[0]->projections[0]->Eval(row), Value(int64_t{-2}));
  EXPECT_EQ(*(*r)[0]->projections[1]->Eval(row), Value(int64_t{0}));
  EXPECT_EQ((*(*r)[0]->projections[2]->Eval(row)).as_decimal().ToString(), "-7.5");
  // A space (or a line break) between the sign and the digits (tests/sql/fuzz/found/12).
  auto spaced = BindSqlScript("SELECT (- 100) AS a, -\n 7 AS b INTO s FROM bid", 1, c);
  ASSERT_TRUE(spaced.ok()) << spaced.status().ToString();
  EXPECT_EQ(*(*spaced)[0]->projections[0]->Eval(row), Value(int64_t{-100}));
  EXPECT_EQ(*(*spaced)[0]->projections[1]->Eval(row), Value(int64_t{-7}));
}

}  // namespace
}  // namespace sluice
