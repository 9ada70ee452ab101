#include "sql/expr.h"

namespace sluice {
namespace {

class ColumnExpr final : public Expr {
 public:
  ColumnExpr(size_t index, std::string name, FieldType type)
      : Expr(type), index_(index), name_(std::move(name)) {}
  Result<Value> Eval(const Record& row) const override { return row[index_]; }
  std::string ToString() const override { return name_; }
  const std::string* column_name() const override { return &name_; }
  std::optional<size_t> column_index() const override { return index_; }
  bool CollectColumns(std::vector<size_t>& out) const override {
    out.push_back(index_);
    return true;
  }

 private:
  size_t index_;
  std::string name_;
};

class LiteralExpr final : public Expr {
 public:
  LiteralExpr(Value value, FieldType type, std::string text)
      : Expr(type), value_(std::move(value)), text_(std::move(text)) {}
  Result<Value> Eval(const Record&) const override { return value_; }
  std::string ToString() const override { return text_; }
  bool CollectColumns(std::vector<size_t>&) const override { return true; }

 private:
  Value value_;
  std::string text_;
};

class CallExpr final : public Expr {
 public:
  CallExpr(std::string name, FieldType type, std::vector<ExprPtr> args, ScalarFn fn, bool strict,
           bool infix)
      : Expr(type),
        name_(std::move(name)),
        args_(std::move(args)),
        fn_(std::move(fn)),
        strict_(strict),
        infix_(infix) {}

  Result<Value> Eval(const Record& row) const override {
    std::vector<Value> values;
    values.reserve(args_.size());
    for (const auto& a : args_) {
      ASSIGN_OR_RETURN(Value v, a->Eval(row));
      if (strict_ && v.is_null()) return Value::Null();
      values.push_back(std::move(v));
    }
    return fn_(values);
  }

  bool CollectColumns(std::vector<size_t>& out) const override {
    for (const auto& a : args_) {
      if (!a->CollectColumns(out)) return false;
    }
    return true;
  }

  std::string ToString() const override {
    std::string out;
    if (infix_ && args_.size() == 2) {
      return "(" + args_[0]->ToString() + " " + name_ + " " + args_[1]->ToString() + ")";
    }
    if (infix_ && args_.size() == 1) return name_ + " " + args_[0]->ToString();
    out = name_ + "(";
    for (size_t i = 0; i < args_.size(); ++i) out += (i ? ", " : "") + args_[i]->ToString();
    return out + ")";
  }

 private:
  std::string name_;
  std::vector<ExprPtr> args_;
  ScalarFn fn_;
  bool strict_;
  bool infix_;
};

// AND / OR with SQL's three-valued logic: AND is false if any input is false, else NULL if any
// is NULL; OR is true if any is true, else NULL if any is NULL.
class LogicExpr final : public Expr {
 public:
  LogicExpr(bool is_and, std::vector<ExprPtr> args)
      : Expr(FieldType::kBoolean), is_and_(is_and), args_(std::move(args)) {}
  Result<Value> Eval(const Record& row) const override {
    bool saw_null = false;
    for (const auto& a : args_) {
      ASSIGN_OR_RETURN(Value v, a->Eval(row));
      if (v.is_null()) {
        saw_null = true;
      } else if (v.as_bool() != is_and_) {
        return Value(!is_and_);
      }
    }
    return saw_null ? Value::Null() : Value(is_and_);
  }
  bool CollectColumns(std::vector<size_t>& out) const override {
    for (const auto& a : args_) {
      if (!a->CollectColumns(out)) return false;
    }
    return true;
  }
  std::string ToString() const override {
    std::string out = "(";
    for (size_t i = 0; i < args_.size(); ++i) {
      out += (i ? (is_and_ ? " AND " : " OR ") : "") + args_[i]->ToString();
    }
    return out + ")";
  }

 private:
  bool is_and_;
  std::vector<ExprPtr> args_;
};

class CaseExpr final : public Expr {
 public:
  CaseExpr(FieldType type, std::vector<std::pair<ExprPtr, ExprPtr>> whens, ExprPtr otherwise)
      : Expr(type), whens_(std::move(whens)), otherwise_(std::move(otherwise)) {}
  Result<Value> Eval(const Record& row) const override {
    for (const auto& [cond, result] : whens_) {
      ASSIGN_OR_RETURN(Value c, cond->Eval(row));
      if (IsTrue(c)) return result->Eval(row);
    }
    if (otherwise_) return otherwise_->Eval(row);
    return Value::Null();
  }
  bool CollectColumns(std::vector<size_t>& out) const override {
    for (const auto& [c, r] : whens_) {
      if (!c->CollectColumns(out) || !r->CollectColumns(out)) return false;
    }
    return !otherwise_ || otherwise_->CollectColumns(out);
  }
  std::string ToString() const override {
    std::string out = "CASE";
    for (const auto& [c, r] : whens_) out += " WHEN " + c->ToString() + " THEN " + r->ToString();
    if (otherwise_) out += " ELSE " + otherwise_->ToString();
    return out + " END";
  }

 private:
  std::vector<std::pair<ExprPtr, ExprPtr>> whens_;
  ExprPtr otherwise_;
};

}  // namespace

ExprPtr MakeColumn(size_t index, std::string name, FieldType type) {
  return std::make_unique<ColumnExpr>(index, std::move(name), type);
}
ExprPtr MakeLiteral(Value value, FieldType type, std::string text) {
  return std::make_unique<LiteralExpr>(std::move(value), type, std::move(text));
}
ExprPtr MakeStrictCall(std::string name, FieldType type, std::vector<ExprPtr> args, ScalarFn fn,
                       bool infix) {
  return std::make_unique<CallExpr>(std::move(name), type, std::move(args), std::move(fn), true,
                                    infix);
}
ExprPtr MakeCall(std::string name, FieldType type, std::vector<ExprPtr> args, ScalarFn fn) {
  return std::make_unique<CallExpr>(std::move(name), type, std::move(args), std::move(fn), false,
                                    false);
}
ExprPtr MakeAnd(std::vector<ExprPtr> args) {
  return std::make_unique<LogicExpr>(true, std::move(args));
}
ExprPtr MakeOr(std::vector<ExprPtr> args) {
  return std::make_unique<LogicExpr>(false, std::move(args));
}
ExprPtr MakeNot(ExprPtr arg) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(arg));
  return MakeStrictCall(
      "NOT", FieldType::kBoolean, std::move(args),
      [](const std::vector<Value>& v) -> Result<Value> { return Value(!v[0].as_bool()); }, true);
}
ExprPtr MakeCase(FieldType type, std::vector<std::pair<ExprPtr, ExprPtr>> whens,
                 ExprPtr otherwise) {
  return std::make_unique<CaseExpr>(type, std::move(whens), std::move(otherwise));
}

}  // namespace sluice
