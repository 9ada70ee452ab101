// Bound scalar expressions: typed trees the binder builds from the parse tree and the
// dataflow evaluates per record, with PostgreSQL's semantics (three-valued logic, NULL in
// gives NULL out for strict functions, integer overflow and division by zero are errors).
// Immutable after binding; Eval is const and safe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/field_type.h"
#include "types/value.h"

namespace sluice {

class Expr {
 public:
  explicit Expr(FieldType type) : type_(type) {}
  virtual ~Expr() = default;
  FieldType type() const { return type_; }
  virtual Result<Value> Eval(const Record& row) const = 0;
  // SQL-like text for plans and errors.
  virtual std::string ToString() const = 0;
  // Set for a column reference (used to name output columns as PostgreSQL does).
  virtual const std::string* column_name() const { return nullptr; }
  virtual std::optional<size_t> column_index() const { return std::nullopt; }
  // Adds the row columns the expression reads to `out`; false when it cannot tell (callers
  // must then assume every column is read).
  virtual bool CollectColumns(std::vector<size_t>& out) const { return false; }

 private:
  FieldType type_;
};

using ExprPtr = std::unique_ptr<Expr>;

ExprPtr MakeColumn(size_t index, std::string name, FieldType type);
ExprPtr MakeLiteral(Value value, FieldType type, std::string text);

// A strict function: returns NULL as soon as an argument is NULL, else calls `fn`.
using ScalarFn = std::function<Result<Value>(const std::vector<Value>&)>;
ExprPtr MakeStrictCall(std::string name, FieldType type, std::vector<ExprPtr> args, ScalarFn fn,
                       bool infix = false);
// A function that sees NULL arguments itself (COALESCE, IS NULL, concat ...).
ExprPtr MakeCall(std::string name, FieldType type, std::vector<ExprPtr> args, ScalarFn fn);

ExprPtr MakeAnd(std::vector<ExprPtr> args);
ExprPtr MakeOr(std::vector<ExprPtr> args);
ExprPtr MakeNot(ExprPtr arg);
// CASE WHEN c1 THEN r1 ... ELSE e END; conditions are boolean expressions.
ExprPtr MakeCase(FieldType type, std::vector<std::pair<ExprPtr, ExprPtr>> whens, ExprPtr otherwise);

// SQL truth of a boolean value: true only for non-NULL true.
inline bool IsTrue(const Value& v) { return !v.is_null() && v.as_bool(); }

}  // namespace sluice
