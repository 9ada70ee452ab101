// BoundSelect: one `SELECT ... INTO t FROM s ...` statement after binding: names resolved to
// column indexes, expressions typed, aggregates collected. It is the logical plan the
// dataflow builds operators from, and what `sluice check` prints.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sql/expr.h"
#include "types/schema.h"

namespace sluice {

enum class AggregateKind { kCount, kCountStar, kSum, kAvg, kMin, kMax, kBoolAnd, kBoolOr };

struct AggregateCall {
  AggregateKind kind;
  ExprPtr arg;     // over the input row; null for COUNT(*)
  ExprPtr filter;  // FILTER (WHERE ...), over the input row; may be null
  FieldType result_type;
  std::string text;
};

struct BoundSelect {
  std::string into;
  std::string input;  // the table read (a source or an earlier INTO table)
  Schema input_schema;
  std::string location;  // line:column of the statement, for messages

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
};

// The tables statements may read: sources first, then each statement's INTO table.
using TableCatalog = std::map<std::string, Schema>;

}  // namespace sluice
