// The scalar function and operator library: resolves a name and argument types to a typed
// expression with PostgreSQL 15 semantics. Implicit casts follow PostgreSQL's numeric ladder
// (int -> decimal -> float); an untyped string literal takes the type it is compared with.
#pragma once

#include <string>
#include <vector>

#include "sql/expr.h"

namespace sluice {

// Operators: + - * / % (binary and unary), = <> != < <= > >=, ||.
Result<ExprPtr> BindOperator(const std::string& op, std::vector<ExprPtr> args);
// Named functions (lower, upper, length, abs, round, coalesce, nullif, greatest, least, ...).
Result<ExprPtr> BindFunction(const std::string& name, std::vector<ExprPtr> args);
// CAST(x AS type) / x::type.
Result<ExprPtr> BindCast(ExprPtr arg, FieldType target);
// Implicit conversion for operators and set operations; errors say what could not convert.
Result<ExprPtr> Coerce(ExprPtr arg, FieldType target);
// Converts a value between types as CAST does (NULL stays NULL).
Result<Value> ConvertValue(FieldType from, FieldType to, const Value& v);
// The common type two operands are converted to, if any.
std::optional<FieldType> CommonType(FieldType a, FieldType b);

// Three-way comparison of two non-NULL values of the same type with PostgreSQL's ordering
// (NaN above every float; strings bytewise, as in the C collation).
int CompareValues(FieldType type, const Value& a, const Value& b);

// IS [NOT] DISTINCT FROM, IS [NOT] NULL, LIKE/ILIKE, BETWEEN and IN (list) are built by the
// binder from these.
ExprPtr MakeIsNull(ExprPtr arg, bool negated);
Result<ExprPtr> MakeDistinctFrom(ExprPtr a, ExprPtr b, bool negated);
Result<ExprPtr> MakeLike(ExprPtr value, ExprPtr pattern, bool case_insensitive, bool negated);
Result<ExprPtr> MakeInList(ExprPtr value, std::vector<ExprPtr> list, bool negated);

// A string literal, or NULL, whose type is still open ("unknown" in PostgreSQL).
ExprPtr MakeUnknownLiteral(std::string text);
ExprPtr MakeNullLiteral();
bool IsUnknownLiteral(const Expr& e);

}  // namespace sluice
