// BoundSelect: one `SELECT ... INTO t FROM s ...` statement after binding: names resolved to
// column indexes, expressions typed, aggregates collected. It is the logical plan the
// dataflow builds operators from, and what `sluice check` prints.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sql/expr.h"
#include "types/schema.h"

namespace sluice {

enum class AggregateKind {
  kCount,
  kCountStar,
  kCountDistinct,
  kSum,
  kAvg,
  kMin,
  kMax,
  kBoolAnd,
  kBoolOr,
  kStringAgg,  // ordered by its argument (ascending unless `descending`)
};

struct AggregateCall {
  AggregateKind kind;
  ExprPtr arg;     // over the input row; null for COUNT(*)
  ExprPtr filter;  // FILTER (WHERE ...), over the input row; may be null
  FieldType result_type;
  std::string text;
  std::string separator;    // STRING_AGG
  bool descending = false;  // STRING_AGG ... ORDER BY x DESC
};

enum class JoinType { kInner, kLeft, kRight, kFull };
std::string_view JoinTypeName(JoinType type);

// One table of FROM. Its columns sit at [offset, offset + schema.fields.size()) of the
// joined row that WHERE, GROUP BY and the select list see.
struct InputTable {
  std::string table;  // a source or an earlier INTO table
  std::string alias;
  Schema schema;
  size_t offset = 0;
};

// joins[i] joins the row of inputs[0..i] (left) with inputs[i + 1] (right).
struct JoinStep {
  JoinType type = JoinType::kInner;
  std::vector<size_t> left_keys;     // columns of the left (joined) row
  std::vector<size_t> right_keys;    // columns of the right table's own row
  std::vector<FieldType> key_types;  // the type each key pair compares in
  ExprPtr residual;  // the rest of ON, over the joined row of inputs[0..i+1]; may be null
  std::string text;  // for plans
};

// TUMBLE(table, time_col, size) and HOP(table, time_col, slide, size) in FROM: an internal
// statement that adds window_start and window_end to each row of inputs[0] (HOP: one row per
// window the time falls in). Rows whose time is NULL belong to no window.
struct WindowSpec {
  size_t time_column = 0;
  int64_t size_micros = 0;
  int64_t slide_micros = 0;  // == size for TUMBLE
};

// EXISTS / IN / NOT EXISTS / NOT IN (subquery) in WHERE: left rows (the joined FROM row) are
// kept or dropped by whether the subquery's rows (an internal statement whose columns are the
// keys) contain their key.
struct SemiJoinSpec {
  enum class Kind { kSemi, kAnti, kNotIn };
  Kind kind = Kind::kSemi;
  std::string table;                 // the internal statement
  Schema right_schema;               // its columns = the keys, in order
  std::vector<ExprPtr> left_keys;    // over the joined row
  std::vector<FieldType> key_types;  // the type each pair compares in
  std::string text;
};

// A set operation combines two statements' rows (inputs[0] and inputs[1]).
enum class SetOp { kUnionAll, kUnion, kIntersect, kIntersectAll, kExcept, kExceptAll };

struct BoundSelect {
  std::string into;  // internal statements (subqueries, WITH, set-operation sides) use "#..."
  std::optional<SetOp> set_op;       // set: inputs are the two sides; no projections
  bool distinct = false;             // SELECT DISTINCT
  std::optional<WindowSpec> window;  // TUMBLE/HOP: no projections

  // row_number() / rank() / dense_rank() OVER (PARTITION BY ... ORDER BY ...): computed over
  // the (filtered) input rows; the select list then sees [input columns..., rank values...].
  struct RankingSpec {
    enum class Function { kRowNumber, kRank, kDenseRank };
    std::vector<ExprPtr> partition_by;  // over the input row
    struct Order {
      ExprPtr expr;  // over the input row
      bool descending = false;
      bool nulls_first = false;
    };
    std::vector<Order> order_by;
    std::vector<Function> functions;  // one value column each, after the input columns
    std::string over_text;            // the OVER clause, to check every function shares it
  };
  std::optional<RankingSpec> ranking;

  // ORDER BY ... LIMIT: only the first rows of the output are kept (top-n), ordered by these
  // output columns. ORDER BY without LIMIT does not change a table's contents and is ignored.
  struct SortKey {
    size_t column;
    bool descending = false;
    bool nulls_first = false;
  };
  std::vector<SortKey> order_by;
  std::optional<int64_t> limit;
  int64_t offset = 0;
  std::vector<InputTable> inputs;  // FROM, in order; one entry without joins
  std::vector<JoinStep> joins;
  std::vector<SemiJoinSpec> semi_joins;  // after the joins; their inputs follow `inputs`
  Schema input_schema;                   // the joined row: every input's columns, in order
  std::string location;                  // line:column of the statement, for messages

  ExprPtr where;  // over the input row; may be null

  // Aggregation. The aggregate row is [group keys..., aggregate results...]; `having` and
  // `projections` are bound over it. Without aggregation projections are over the input row.
  bool aggregated = false;
  std::vector<ExprPtr> group_keys;
  std::vector<AggregateCall> aggregates;
  ExprPtr having;

  std::vector<ExprPtr> projections;
  Schema output_schema;  // primary_key = the group keys when each is projected as a column

  std::string Describe() const;
  // Every table the statement reads, by input slot: FROM inputs, then semi-join subqueries.
  std::vector<std::string> InputTables() const {
    std::vector<std::string> out;
    for (const auto& i : inputs) out.push_back(i.table);
    for (const auto& s : semi_joins) out.push_back(s.table);
    return out;
  }
};

// The tables statements may read: sources first, then each statement's INTO table.
using TableCatalog = std::map<std::string, Schema>;

}  // namespace sluice
