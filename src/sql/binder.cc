#include "sql/binder.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>
#include <tuple>

#include "sql/functions.h"
#include "sql/sql_parser.h"
#include "sql/type_modifiers.h"

namespace sluice {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// ---------- parse tree access ----------

// A parse tree node is {"Kind": {...fields}}; returns Kind and the field object.
std::pair<std::string_view, element> NodeOf(element node) {
  object obj;
  if (node.get(obj) || obj.size() != 1) return {"", node};
  auto field = *obj.begin();
  return {field.key, field.value};
}

// Reads an optional part of the tree; returns whether it was there (out unchanged if not).
template <typename T, typename Out>
bool TryGet(simdjson::simdjson_result<T> result, Out& out) {
  return !result.get(out);
}

int64_t LocationOf(element fields) {
  int64_t loc;
  if (fields["location"].get(loc)) return -1;
  return loc;
}

// " at line:column" of a parse node, or of `fallback` (an offset) when the node has none.
std::string AtLocation(const SqlSource& source, element fields, int64_t fallback) {
  const int64_t loc = LocationOf(fields);
  return " at " + source.Position(loc >= 0 ? loc : fallback);
}

std::string StringField(element fields, const char* key) {
  std::string_view s;
  if (fields[key].get(s)) return "";
  return std::string(s);
}

// The string value of a {"String": {"sval": "x"}} node.
std::string StringNode(element node) {
  auto [kind, fields] = NodeOf(node);
  if (kind != "String") return "";
  return StringField(fields, "sval");
}

std::vector<element> ListField(element fields, const char* key) {
  std::vector<element> out;
  array arr;
  if (fields[key].get(arr)) return out;
  for (auto e : arr) out.push_back(e);
  return out;
}

bool HasField(element fields, const char* key) { return !fields[key].error(); }

// Structural equality of two parse trees, ignoring source locations (GROUP BY matching).
bool SameTree(element a, element b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case element_type::OBJECT: {
      object oa = a.get_object().value_unsafe(), ob = b.get_object().value_unsafe();
      size_t na = 0, nb = 0;
      for (auto f : oa) {
        if (f.key == "location") continue;
        ++na;
        element other;
        if (ob[f.key].get(other) || !SameTree(f.value, other)) return false;
      }
      for (auto f : ob) nb += f.key != "location";
      return na == nb;
    }
    case element_type::ARRAY: {
      array xa = a.get_array().value_unsafe(), xb = b.get_array().value_unsafe();
      if (xa.size() != xb.size()) return false;
      for (size_t i = 0; i < xa.size(); ++i) {
        if (!SameTree(xa.at(i).value_unsafe(), xb.at(i).value_unsafe())) return false;
      }
      return true;
    }
    default:
      return simdjson::minify(a) == simdjson::minify(b);
  }
}

std::optional<FieldType> TypeFromPgName(const std::string& name) {
  static const std::map<std::string, FieldType> kTypes = {
      {"int2", FieldType::kInt},
      {"int4", FieldType::kInt},
      {"int8", FieldType::kInt},
      {"integer", FieldType::kInt},
      {"bigint", FieldType::kInt},
      {"smallint", FieldType::kInt},
      {"float4", FieldType::kFloat},
      {"float8", FieldType::kFloat},
      {"real", FieldType::kFloat},
      {"numeric", FieldType::kDecimal},
      {"decimal", FieldType::kDecimal},
      {"text", FieldType::kString},
      {"varchar", FieldType::kString},
      {"bpchar", FieldType::kString},
      {"bool", FieldType::kBoolean},
      {"boolean", FieldType::kBoolean},
      {"date", FieldType::kDate},
      {"timestamp", FieldType::kTimestamp},
      {"timestamptz", FieldType::kTimestamp},
      {"interval", FieldType::kDuration},
      {"json", FieldType::kJson},
      {"jsonb", FieldType::kJson},
      {"bytea", FieldType::kBinary},
  };
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

const std::set<std::string>& AggregateNames() {
  static const std::set<std::string> kNames = {"count",    "sum",     "avg",   "min",       "max",
                                               "bool_and", "bool_or", "every", "string_agg"};
  return kNames;
}

// PostgreSQL's name for an output column without an alias (FigureColname).
std::string FigureColumnName(element node) {
  auto [kind, fields] = NodeOf(node);
  if (kind == "ColumnRef") {
    auto parts = ListField(fields, "fields");
    if (!parts.empty()) {
      std::string last = StringNode(parts.back());
      if (!last.empty()) return last;
    }
  } else if (kind == "FuncCall") {
    auto names = ListField(fields, "funcname");
    if (!names.empty()) return StringNode(names.back());
  } else if (kind == "TypeCast") {
    element arg;
    if (!fields["arg"].get(arg)) {
      std::string inner = FigureColumnName(arg);
      if (inner != "?column?") return inner;
    }
    element type_name;
    if (!fields["typeName"].get(type_name)) {
      auto names = ListField(type_name, "names");
      if (!names.empty()) return StringNode(names.back());
    }
  } else if (kind == "CaseExpr") {
    return "case";
  } else if (kind == "CoalesceExpr") {
    return "coalesce";
  } else if (kind == "MinMaxExpr") {
    return StringField(fields, "op") == "IS_GREATEST" ? "greatest" : "least";
  } else if (kind == "A_Expr" && StringField(fields, "kind") == "AEXPR_NULLIF") {
    return "nullif";
  }
  return "?column?";
}

// ---------- expression binding ----------

class StatementBinder {
 public:
  // Columns of inputs[0..visible) can be referenced (ON clauses see only the tables joined so
  // far, as in PostgreSQL).
  StatementBinder(const SqlSource& source, const std::vector<InputTable>& inputs,
                  size_t visible = SIZE_MAX)
      : source_(source), inputs_(inputs), visible_(std::min(visible, inputs.size())) {}

  Status Error(std::string message, element fields) const {
    int64_t loc = LocationOf(fields);
    if (loc >= 0) message += " at " + source_.Position(loc);
    return InvalidArgument(message);
  }
  Status Unsupported(const std::string& what, element fields) const {
    Status s = Error(what + " is not supported", fields);
    return Status(StatusCode::kUnimplemented, s.message());
  }

  // Aggregate context: keys and aggregates the select list may use.
  void EnableAggregation(BoundSelect* plan) { plan_ = plan; }
  // Ranking context: row_number()/rank()/dense_rank() OVER (...) in the select list.
  void EnableRanking(BoundSelect* plan) { ranking_plan_ = plan; }
  // Binds an uncorrelated scalar subquery (SubLink fields) to a column of the joined row.
  void SetSublinkHandler(std::function<Result<ExprPtr>(element)> handler) {
    sublink_handler_ = std::move(handler);
  }
  void AddGroupKeyTree(std::optional<element> tree, std::optional<size_t> column) {
    key_trees_.push_back(tree);
    key_columns_.push_back(column);
  }

  Result<ExprPtr> Bind(element node) {
    auto [kind, fields] = NodeOf(node);
    // Inside an aggregate's argument the input row is in scope, not the group keys.
    if (plan_ && !in_aggregate_arg_) {
      for (size_t k = 0; k < key_trees_.size(); ++k) {
        if (key_trees_[k] && SameTree(node, *key_trees_[k])) return KeyRef(k);
      }
    }
    if (kind == "ColumnRef") return BindColumn(fields);
    if (kind == "A_Const") return BindConst(fields);
    if (kind == "A_Expr") return BindAExpr(fields);
    if (kind == "BoolExpr") return BindBoolExpr(fields);
    if (kind == "NullTest") {
      element arg;
      if (fields["arg"].get(arg)) return Error("IS NULL without an argument", fields);
      ASSIGN_OR_RETURN(ExprPtr a, Bind(arg));
      return MakeIsNull(std::move(a), StringField(fields, "nulltesttype") == "IS_NOT_NULL");
    }
    if (kind == "BooleanTest") return BindBooleanTest(fields);
    if (kind == "FuncCall") return BindFuncCall(fields);
    if (kind == "TypeCast") return BindTypeCast(fields);
    if (kind == "CaseExpr") return BindCase(fields);
    if (kind == "CoalesceExpr") return BindArgsFunction("coalesce", fields);
    if (kind == "MinMaxExpr") {
      return BindArgsFunction(StringField(fields, "op") == "IS_GREATEST" ? "greatest" : "least",
                              fields);
    }
    if (kind == "SubLink") {
      if (sublink_handler_ && StringField(fields, "subLinkType") == "EXPR_SUBLINK" && !plan_) {
        return sublink_handler_(fields);
      }
      return Unsupported(
          "a subquery here (supported: EXISTS, IN (SELECT ...) in WHERE, and "
          "scalar subqueries outside aggregates)",
          fields);
    }
    if (kind == "SQLValueFunction") {
      return Unsupported(
          "CURRENT_DATE / CURRENT_TIMESTAMP (results would depend on the time "
          "they are computed)",
          fields);
    }
    return Unsupported("expression " + std::string(kind), fields);
  }

 private:
  ExprPtr KeyRef(size_t k) const {
    return MakeColumn(k, plan_->group_keys[k]->ToString(), plan_->group_keys[k]->type());
  }

  // Resolves a column reference to its index in the joined row, or says why it cannot.
 public:
  Result<size_t> ResolveColumn(element fields) const {
    auto parts = ListField(fields, "fields");
    std::string table, column;
    if (parts.size() == 1) {
      column = StringNode(parts[0]);
    } else if (parts.size() == 2) {
      table = StringNode(parts[0]);
      column = StringNode(parts[1]);
    }
    if (column.empty()) {
      return Status(
          StatusCode::kUnimplemented,
          Error("this column reference (e.g. * inside an expression) is not supported", fields)
              .message());
    }
    std::optional<size_t> found;
    bool table_seen = table.empty();
    for (size_t t = 0; t < visible_; ++t) {
      const InputTable& input = inputs_[t];
      if (!table.empty() && input.alias != table) continue;
      table_seen = true;
      if (auto index = input.schema.FindField(column)) {
        if (found) return Error("column reference \"" + column + "\" is ambiguous", fields);
        found = input.offset + *index;
      }
    }
    if (!table_seen) return Error("missing FROM-clause entry for table \"" + table + "\"", fields);
    if (!found) {
      std::string known;
      for (size_t t = 0; t < visible_; ++t) {
        if (!table.empty() && inputs_[t].alias != table) continue;
        for (const auto& f : inputs_[t].schema.fields) {
          known +=
              (known.empty() ? "" : ", ") + (visible_ > 1 ? inputs_[t].alias + "." : "") + f.name;
        }
      }
      std::string where = table.empty() ? (visible_ == 1 ? inputs_[0].table : "FROM") : table;
      return Error(
          "column \"" + column + "\" does not exist in " + where + " (columns: " + known + ")",
          fields);
    }
    return *found;
  }

  const Field& FieldAt(size_t index) const {
    for (size_t t = 0; t < visible_; ++t) {
      const InputTable& input = inputs_[t];
      if (index < input.offset + input.schema.fields.size())
        return input.schema.fields[index - input.offset];
    }
    return inputs_.back().schema.fields.back();
  }

 private:
  Result<ExprPtr> BindColumn(element fields) {
    ASSIGN_OR_RETURN(size_t index, ResolveColumn(fields));
    const Field& field = FieldAt(index);
    if (plan_ && !in_aggregate_arg_) {
      for (size_t k = 0; k < key_columns_.size(); ++k) {
        if (key_columns_[k] == index) return KeyRef(k);
      }
      return Error("column \"" + field.name +
                       "\" must appear in the GROUP BY clause or be used in an "
                       "aggregate function",
                   fields);
    }
    return MakeColumn(index, field.name, field.type);
  }

  Result<ExprPtr> BindConst(element fields) {
    int64_t loc = LocationOf(fields);
    if (HasField(fields, "isnull")) return MakeNullLiteral();
    element v;
    if (!fields["ival"].get(v)) {
      int64_t i = 0;
      if (v["ival"].get(i)) {
        // The JSON output omits zero and negative integer constants: read the token itself.
        std::string token = source_.TokenAt(loc);
        auto parsed = ParseValueTextInt(token);
        if (!parsed) return Error("cannot read the integer constant '" + token + "'", fields);
        i = *parsed;
      }
      return MakeLiteral(Value(i), FieldType::kInt, std::to_string(i));
    }
    if (!fields["fval"].get(v)) {
      std::string text = StringField(v, "fval");
      if (auto as_int = ParseValueTextInt(text)) {
        return MakeLiteral(Value(*as_int), FieldType::kInt, text);
      }
      auto d = Decimal::Parse(text);
      if (!d.ok()) return Error(d.status().message(), fields);
      return MakeLiteral(Value(*d), FieldType::kDecimal, text);
    }
    if (!fields["sval"].get(v)) return MakeUnknownLiteral(StringField(v, "sval"));
    if (!fields["boolval"].get(v)) {
      bool b = false;
      TryGet(v["boolval"], b);  // false is omitted from the JSON
      return MakeLiteral(Value(b), FieldType::kBoolean, b ? "true" : "false");
    }
    if (!fields["bsval"].get(v)) return Unsupported("bit-string constants", fields);
    return Unsupported("this constant", fields);
  }

  static std::optional<int64_t> ParseValueTextInt(const std::string& text) {
    int64_t v;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return v;
  }

  Result<std::vector<ExprPtr>> BindList(element list_node) {
    std::vector<ExprPtr> out;
    auto [kind, fields] = NodeOf(list_node);
    std::vector<element> items =
        kind == "List" ? ListField(fields, "items") : std::vector<element>{};
    if (kind != "List") {
      array arr;
      if (!list_node.get(arr))
        for (auto e : arr) items.push_back(e);
    }
    for (auto item : items) {
      ASSIGN_OR_RETURN(ExprPtr e, Bind(item));
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<ExprPtr> BindAExpr(element fields) {
    std::string kind = StringField(fields, "kind");
    auto names = ListField(fields, "name");
    std::string op = names.empty() ? "" : StringNode(names.back());
    element lexpr, rexpr;
    bool has_l = !fields["lexpr"].get(lexpr);
    TryGet(fields["rexpr"], rexpr);
    auto wrap = [&](Result<ExprPtr> r) -> Result<ExprPtr> {
      if (!r.ok()) return Error(r.status().message(), fields);
      return r;
    };
    if (kind == "AEXPR_OP") {
      std::vector<ExprPtr> args;
      if (has_l) {
        ASSIGN_OR_RETURN(ExprPtr l, Bind(lexpr));
        args.push_back(std::move(l));
      }
      ASSIGN_OR_RETURN(ExprPtr r, Bind(rexpr));
      args.push_back(std::move(r));
      if (op == "~~" || op == "!~~" || op == "~~*" || op == "!~~*") {
        return wrap(MakeLike(std::move(args[0]), std::move(args[1]),
                             op.find('*') != std::string::npos, op[0] == '!'));
      }
      return wrap(BindOperator(op, std::move(args)));
    }
    if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
      ASSIGN_OR_RETURN(ExprPtr l, Bind(lexpr));
      ASSIGN_OR_RETURN(ExprPtr r, Bind(rexpr));
      return wrap(MakeLike(std::move(l), std::move(r), kind == "AEXPR_ILIKE", op[0] == '!'));
    }
    if (kind == "AEXPR_IN") {
      ASSIGN_OR_RETURN(ExprPtr l, Bind(lexpr));
      ASSIGN_OR_RETURN(std::vector<ExprPtr> list, BindList(rexpr));
      return wrap(MakeInList(std::move(l), std::move(list), op == "<>"));
    }
    if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN") {
      // x BETWEEN a AND b is x >= a AND x <= b (x evaluated twice, as PostgreSQL does).
      ASSIGN_OR_RETURN(std::vector<ExprPtr> bounds, BindList(rexpr));
      if (bounds.size() != 2) return Error("BETWEEN needs two bounds", fields);
      ASSIGN_OR_RETURN(ExprPtr x1, Bind(lexpr));
      ASSIGN_OR_RETURN(ExprPtr x2, Bind(lexpr));
      std::vector<ExprPtr> lo, hi;
      lo.push_back(std::move(x1));
      lo.push_back(std::move(bounds[0]));
      hi.push_back(std::move(x2));
      hi.push_back(std::move(bounds[1]));
      ASSIGN_OR_RETURN(ExprPtr ge, wrap(BindOperator(">=", std::move(lo))));
      ASSIGN_OR_RETURN(ExprPtr le, wrap(BindOperator("<=", std::move(hi))));
      std::vector<ExprPtr> both;
      both.push_back(std::move(ge));
      both.push_back(std::move(le));
      ExprPtr between = MakeAnd(std::move(both));
      return kind == "AEXPR_BETWEEN" ? std::move(between) : MakeNot(std::move(between));
    }
    if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
      ASSIGN_OR_RETURN(ExprPtr l, Bind(lexpr));
      ASSIGN_OR_RETURN(ExprPtr r, Bind(rexpr));
      return wrap(MakeDistinctFrom(std::move(l), std::move(r), kind == "AEXPR_NOT_DISTINCT"));
    }
    if (kind == "AEXPR_NULLIF") {
      std::vector<ExprPtr> args;
      ASSIGN_OR_RETURN(ExprPtr l, Bind(lexpr));
      ASSIGN_OR_RETURN(ExprPtr r, Bind(rexpr));
      args.push_back(std::move(l));
      args.push_back(std::move(r));
      return wrap(BindFunction("nullif", std::move(args)));
    }
    return Unsupported("operator form " + kind, fields);
  }

  Result<ExprPtr> BindBoolExpr(element fields) {
    std::string op = StringField(fields, "boolop");
    std::vector<ExprPtr> args;
    for (auto a : ListField(fields, "args")) {
      ASSIGN_OR_RETURN(ExprPtr e, Bind(a));
      ASSIGN_OR_RETURN(e, RequireBoolean(std::move(e), a));
      args.push_back(std::move(e));
    }
    if (op == "AND_EXPR") return MakeAnd(std::move(args));
    if (op == "OR_EXPR") return MakeOr(std::move(args));
    return MakeNot(std::move(args[0]));
  }

  Result<ExprPtr> BindBooleanTest(element fields) {
    element arg;
    TryGet(fields["arg"], arg);
    ASSIGN_OR_RETURN(ExprPtr a, Bind(arg));
    ASSIGN_OR_RETURN(a, RequireBoolean(std::move(a), arg));
    std::string test = StringField(fields, "booltesttype");
    std::vector<ExprPtr> args;
    args.push_back(std::move(a));
    return MakeCall(test, FieldType::kBoolean, std::move(args),
                    [test](const std::vector<Value>& v) -> Result<Value> {
                      const Value& x = v[0];
                      if (test == "IS_TRUE") return Value(IsTrue(x));
                      if (test == "IS_NOT_TRUE") return Value(!IsTrue(x));
                      if (test == "IS_FALSE") return Value(!x.is_null() && !x.as_bool());
                      if (test == "IS_NOT_FALSE") return Value(x.is_null() || x.as_bool());
                      if (test == "IS_UNKNOWN") return Value(x.is_null());
                      return Value(!x.is_null());
                    });
  }

  Result<ExprPtr> RequireBoolean(ExprPtr e, element node) {
    if (IsUnknownLiteral(*e)) return Coerce(std::move(e), FieldType::kBoolean);
    if (e->type() != FieldType::kBoolean) {
      auto [kind, fields] = NodeOf(node);
      return Error("argument of AND/OR/NOT must be type boolean, not type " +
                       std::string(FieldTypeName(e->type())),
                   fields);
    }
    return e;
  }

  Result<ExprPtr> BindArgsFunction(const std::string& name, element fields) {
    std::vector<ExprPtr> args;
    for (auto a : ListField(fields, "args")) {
      ASSIGN_OR_RETURN(ExprPtr e, Bind(a));
      args.push_back(std::move(e));
    }
    auto r = BindFunction(name, std::move(args));
    if (!r.ok()) return Status(r.status().code(), Error(r.status().message(), fields).message());
    return r;
  }

  Result<ExprPtr> BindFuncCall(element fields) {
    auto names = ListField(fields, "funcname");
    std::string name = names.empty() ? "" : StringNode(names.back());
    if (HasField(fields, "over")) return BindRanking(name, fields);
    if (AggregateNames().count(name)) return BindAggregate(name, fields);
    if (HasField(fields, "agg_filter"))
      return Error("FILTER is only for aggregate functions", fields);
    return BindArgsFunction(name, fields);
  }

  Result<ExprPtr> BindRanking(const std::string& name, element fields) {
    using Function = BoundSelect::RankingSpec::Function;
    std::optional<Function> function;
    if (name == "row_number") function = Function::kRowNumber;
    if (name == "rank") function = Function::kRank;
    if (name == "dense_rank") function = Function::kDenseRank;
    if (!function || !ranking_plan_) return Unsupported("window function " + name + "()", fields);
    element over;
    TryGet(fields["over"], over);
    std::string over_text = std::string(simdjson::minify(over));
    // Positions differ between two identical OVER clauses; compare without them.
    auto& plan = *ranking_plan_;
    if (!plan.ranking) {
      BoundSelect::RankingSpec spec;
      spec.over_text = over_text;
      for (auto p : ListField(over, "partitionClause")) {
        ASSIGN_OR_RETURN(ExprPtr e, Bind(p));
        spec.partition_by.push_back(std::move(e));
      }
      for (auto o : ListField(over, "orderClause")) {
        auto [ok, of] = NodeOf(o);
        element node;
        TryGet(of["node"], node);
        BoundSelect::RankingSpec::Order order;
        ASSIGN_OR_RETURN(order.expr, Bind(node));
        order.descending = StringField(of, "sortby_dir") == "SORTBY_DESC";
        std::string nulls = StringField(of, "sortby_nulls");
        order.nulls_first =
            nulls == "SORTBY_NULLS_FIRST" || (nulls != "SORTBY_NULLS_LAST" && order.descending);
        spec.order_by.push_back(std::move(order));
      }
      plan.ranking = std::move(spec);
      first_over_ = over;
    } else if (!SameTree(first_over_, over)) {
      return Unsupported("window functions with different OVER clauses in one statement", fields);
    }
    plan.ranking->functions.push_back(*function);
    size_t index = plan.input_schema.fields.size() + plan.ranking->functions.size() - 1;
    return MakeColumn(index, name + "()", FieldType::kInt);
  }

  Result<ExprPtr> BindAggregate(const std::string& name, element fields) {
    if (!plan_) return Error("aggregate functions are not allowed here (" + name + ")", fields);
    if (in_aggregate_arg_) return Error("aggregate function calls cannot be nested", fields);
    bool distinct = false;
    TryGet(fields["agg_distinct"], distinct);
    if (distinct && name != "count") return Unsupported(name + "(DISTINCT ...)", fields);
    bool star = false;
    TryGet(fields["agg_star"], star);
    auto args = ListField(fields, "args");
    AggregateCall call;
    in_aggregate_arg_ = true;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{in_aggregate_arg_};
    element filter;
    if (!fields["agg_filter"].get(filter)) {
      ASSIGN_OR_RETURN(call.filter, Bind(filter));
      ASSIGN_OR_RETURN(call.filter, RequireBoolean(std::move(call.filter), filter));
    }
    if (star) {
      if (name != "count") return Error(name + "(*) is not a function", fields);
      call.kind = AggregateKind::kCountStar;
      call.result_type = FieldType::kInt;
      call.text = "count(*)";
    } else if (name == "string_agg") {
      // The result's order must not depend on arrival order, so the rows are ordered by the
      // value itself: string_agg(x, sep [ORDER BY x [DESC]]).
      if (args.size() != 2) return Error("string_agg() takes a value and a separator", fields);
      ASSIGN_OR_RETURN(call.arg, Bind(args[0]));
      if (IsUnknownLiteral(*call.arg)) {
        ASSIGN_OR_RETURN(call.arg, Coerce(std::move(call.arg), FieldType::kString));
      }
      if (call.arg->type() != FieldType::kString && call.arg->type() != FieldType::kText) {
        return Error("string_agg() needs a text value", fields);
      }
      auto [sk, sf] = NodeOf(args[1]);
      element sv;
      if (sk != "A_Const" || sf["sval"].get(sv)) {
        return Unsupported("string_agg() with a separator that is not a string constant", fields);
      }
      call.separator = StringField(sv, "sval");
      auto order = ListField(fields, "agg_order");
      if (!order.empty()) {
        auto [ok, of] = NodeOf(order[0]);
        element by;
        TryGet(of["node"], by);
        if (order.size() != 1 || !SameTree(by, args[0])) {
          return Unsupported("string_agg() ordered by anything but its value", fields);
        }
        call.descending = StringField(of, "sortby_dir") == "SORTBY_DESC";
      }
      call.kind = AggregateKind::kStringAgg;
      call.result_type = FieldType::kString;
      call.text = "string_agg(" + call.arg->ToString() + ", '" + call.separator + "' ORDER BY " +
                  call.arg->ToString() + (call.descending ? " DESC" : "") + ")";
    } else {
      if (args.size() != 1) return Error(name + "() takes exactly one argument", fields);
      ASSIGN_OR_RETURN(call.arg, Bind(args[0]));
      FieldType t = call.arg->type();
      if (IsUnknownLiteral(*call.arg)) {
        ASSIGN_OR_RETURN(call.arg, Coerce(std::move(call.arg), FieldType::kString));
        t = FieldType::kString;
      }
      auto numeric = [&] {
        return t == FieldType::kInt || t == FieldType::kUInt || t == FieldType::kDecimal ||
               t == FieldType::kFloat;
      };
      if (name == "count") {
        call.kind = distinct ? AggregateKind::kCountDistinct : AggregateKind::kCount;
        call.result_type = FieldType::kInt;
      } else if (name == "sum" || name == "avg") {
        if (!numeric() && !(name == "sum" && t == FieldType::kDuration)) {
          return Error(
              "function " + name + "(" + std::string(FieldTypeName(t)) + ") does not exist",
              fields);
        }
        call.kind = name == "sum" ? AggregateKind::kSum : AggregateKind::kAvg;
        if (t == FieldType::kFloat || t == FieldType::kDuration) {
          call.result_type = t;
        } else {
          if (t != FieldType::kDecimal) {
            ASSIGN_OR_RETURN(call.arg, Coerce(std::move(call.arg), FieldType::kDecimal));
          }
          call.result_type = FieldType::kDecimal;
        }
      } else if (name == "min" || name == "max") {
        // PostgreSQL orders no booleans, JSON, points or bytes for min/max (bool_and/bool_or
        // are its boolean aggregates).
        if (t == FieldType::kBoolean || t == FieldType::kJson || t == FieldType::kPoint ||
            t == FieldType::kBinary) {
          return Error(
              "function " + name + "(" + std::string(FieldTypeName(t)) + ") does not exist",
              fields);
        }
        call.kind = name == "min" ? AggregateKind::kMin : AggregateKind::kMax;
        call.result_type = t;
      } else {
        if (t != FieldType::kBoolean) return Error(name + "() needs a boolean argument", fields);
        call.kind = name == "bool_or" ? AggregateKind::kBoolOr : AggregateKind::kBoolAnd;
        call.result_type = FieldType::kBoolean;
      }
      call.text =
          name + "(" + std::string(distinct ? "DISTINCT " : "") + call.arg->ToString() + ")";
    }
    if (call.filter) call.text += " FILTER (WHERE " + call.filter->ToString() + ")";
    size_t index = plan_->group_keys.size() + plan_->aggregates.size();
    FieldType type = call.result_type;
    std::string text = call.text;
    plan_->aggregates.push_back(std::move(call));
    return MakeColumn(index, text, type);
  }

  Result<ExprPtr> BindTypeCast(element fields) {
    element arg, type_name;
    TryGet(fields["arg"], arg);
    TryGet(fields["typeName"], type_name);
    auto names = ListField(type_name, "names");
    std::string tname = names.empty() ? "" : StringNode(names.back());
    if (HasField(type_name, "arrayBounds")) return Unsupported("array types", fields);
    auto type = TypeFromPgName(tname);
    if (!type) return Unsupported("type " + tname, fields);
    std::vector<int64_t> mods;
    for (auto m : ListField(type_name, "typmods")) {
      ASSIGN_OR_RETURN(ExprPtr e, Bind(m));
      auto v = e->type() == FieldType::kInt ? e->Eval({}) : Result<Value>(Value());
      if (!v.ok() || v->is_null()) return Error("type modifiers must be simple constants", fields);
      mods.push_back(v->as_int());
    }
    ASSIGN_OR_RETURN(ExprPtr a, Bind(arg));
    auto r = BindCast(std::move(a), *type);
    if (r.ok()) r = ApplyTypeModifiers(std::move(*r), tname, mods);
    if (r.status().code() == StatusCode::kUnimplemented) {
      return Unsupported(r.status().message(), fields);
    }
    if (!r.ok()) return Error(r.status().message(), fields);
    return r;
  }

  Result<ExprPtr> BindCase(element fields) {
    element case_arg;
    bool simple = !fields["arg"].get(case_arg);
    std::vector<std::pair<ExprPtr, ExprPtr>> whens;
    std::vector<ExprPtr> results;
    std::vector<ExprPtr> conditions;
    for (auto w : ListField(fields, "args")) {
      auto [kind, wf] = NodeOf(w);
      element expr, result;
      TryGet(wf["expr"], expr);
      TryGet(wf["result"], result);
      ExprPtr cond;
      if (simple) {
        ASSIGN_OR_RETURN(ExprPtr subject, Bind(case_arg));
        ASSIGN_OR_RETURN(ExprPtr value, Bind(expr));
        std::vector<ExprPtr> args;
        args.push_back(std::move(subject));
        args.push_back(std::move(value));
        auto eq = BindOperator("=", std::move(args));
        if (!eq.ok()) return Error(eq.status().message(), wf);
        cond = std::move(*eq);
      } else {
        ASSIGN_OR_RETURN(cond, Bind(expr));
        ASSIGN_OR_RETURN(cond, RequireBoolean(std::move(cond), expr));
      }
      ASSIGN_OR_RETURN(ExprPtr r, Bind(result));
      conditions.push_back(std::move(cond));
      results.push_back(std::move(r));
    }
    element def;
    ExprPtr otherwise;
    if (!fields["defresult"].get(def)) {
      ASSIGN_OR_RETURN(otherwise, Bind(def));
    }
    // Result type: the common type of all non-unknown results (text if all are unknown).
    std::optional<FieldType> type;
    auto consider = [&](const ExprPtr& e) -> Status {
      if (!e || IsUnknownLiteral(*e)) return Status::OK();
      if (!type) {
        type = e->type();
        return Status::OK();
      }
      auto c = CommonType(*type, e->type());
      if (!c)
        return Error("CASE types " + std::string(FieldTypeName(*type)) + " and " +
                         std::string(FieldTypeName(e->type())) + " cannot be matched",
                     fields);
      type = c;
      return Status::OK();
    };
    for (auto& r : results) RETURN_IF_ERROR(consider(r));
    RETURN_IF_ERROR(consider(otherwise));
    FieldType t = type.value_or(FieldType::kString);
    for (size_t i = 0; i < results.size(); ++i) {
      ASSIGN_OR_RETURN(ExprPtr r, Coerce(std::move(results[i]), t));
      whens.emplace_back(std::move(conditions[i]), std::move(r));
    }
    if (otherwise) {
      ASSIGN_OR_RETURN(otherwise, Coerce(std::move(otherwise), t));
    }
    return MakeCase(t, std::move(whens), std::move(otherwise));
  }

  const SqlSource& source_;
  const std::vector<InputTable>& inputs_;
  size_t visible_;
  BoundSelect* plan_ = nullptr;
  BoundSelect* ranking_plan_ = nullptr;
  element first_over_;
  std::function<Result<ExprPtr>(element)> sublink_handler_;
  std::vector<std::optional<element>> key_trees_;  // none for functionally dependent keys
  std::vector<std::optional<size_t>> key_columns_;
  bool in_aggregate_arg_ = false;
};

bool ContainsAggregate(element node) {
  auto [kind, fields] = NodeOf(node);
  if (kind == "SubLink") return false;  // a subquery's aggregates are its own
  if (kind == "FuncCall") {
    auto names = ListField(fields, "funcname");
    if (!names.empty() && AggregateNames().count(StringNode(names.back())) &&
        !HasField(fields, "over")) {
      return true;
    }
  }
  // Copy the object/array handles out first: iterating value_unsafe() of a temporary would
  // read a dead simdjson_result.
  object obj;
  array arr;
  if (!node.get(obj)) {
    for (auto f : obj) {
      if (ContainsAggregate(f.value)) return true;
    }
  } else if (!node.get(arr)) {
    for (auto e : arr) {
      if (ContainsAggregate(e)) return true;
    }
  }
  return false;
}

// PostgreSQL's functional dependency: when GROUP BY holds a whole primary key of a FROM table,
// that table's other columns are constant per group, so the select list, HAVING and ORDER BY
// may use them. They become extra group keys, which split no group.
void AddFunctionallyDependentKeys(BoundSelect& plan, StatementBinder& binder) {
  std::set<size_t> keyed;
  for (const ExprPtr& k : plan.group_keys) {
    if (k->column_index()) keyed.insert(*k->column_index());
  }
  std::vector<size_t> dependent;
  for (const InputTable& input : plan.inputs) {
    const std::vector<size_t>& pk = input.schema.primary_key;
    if (pk.empty() || !std::all_of(pk.begin(), pk.end(),
                                   [&](size_t c) { return keyed.count(input.offset + c) > 0; })) {
      continue;
    }
    for (size_t c = 0; c < input.schema.fields.size(); ++c) {
      if (!keyed.count(input.offset + c)) dependent.push_back(input.offset + c);
    }
  }
  for (size_t index : dependent) {
    const Field& f = plan.input_schema.fields[index];
    plan.group_keys.push_back(MakeColumn(index, f.name, f.type));
    binder.AddGroupKeyTree(std::nullopt, index);
  }
}

// What binding one top-level statement accumulates: statements it needs first (WITH,
// subqueries in FROM, the sides of UNION ...), named "#..." so SQL cannot refer to them.
struct BindContext {
  std::string statement;  // the INTO table of the top-level statement
  std::vector<std::unique_ptr<BoundSelect>> internal;
  std::map<std::string, std::string> ctes;  // WITH name -> internal table
  int counter = 0;
  // Set while binding the subquery of EXISTS: its WHERE may equate its columns with these
  // outer ones; each such equality becomes a key (the subquery then outputs its side).
  const std::vector<InputTable>* outer = nullptr;
  std::vector<size_t> outer_keys;  // filled by that subquery: outer column per output column
  // Prefixed with the statement's INTO table, which is unique in the script, so internal tables
  // of different statements can never share a name (and plans say whose they are).
  std::string NewName(const std::string& what) {
    return "#" + statement + "." + what + std::to_string(++counter);
  }
};

// Adds a plan's output table to the catalog; a name taken already would make two statements
// write one table, so it is refused (not overwritten).
Status AddToCatalog(TableCatalog& catalog, const BoundSelect& plan) {
  if (!catalog.emplace(plan.into, plan.output_schema).second) {
    return Internal("two statements write the table \"" + plan.into + "\"");
  }
  return Status::OK();
}

Result<std::unique_ptr<BoundSelect>> BindQuery(const SqlSource& source, element select,
                                               TableCatalog& catalog, BindContext& ctx,
                                               const std::string& into, int64_t stmt_loc);

// Binds `select` as an internal statement and returns its name.
Result<std::string> BindInternal(const SqlSource& source, element select, TableCatalog& catalog,
                                 BindContext& ctx, const std::string& what, int64_t loc) {
  std::string name = ctx.NewName(what);
  ASSIGN_OR_RETURN(auto plan, BindQuery(source, select, catalog, ctx, name, loc));
  ctx.internal.push_back(std::move(plan));
  return name;
}

// TUMBLE(table, time_col, size) / HOP(table, time_col, slide, size) in FROM become an
// internal statement that assigns windows; the caller joins it like any table.
Result<InputTable> BindWindowFunction(const SqlSource& source, element fields,
                                      TableCatalog& catalog, BindContext& ctx) {
  auto at = [&](element e) { return AtLocation(source, e, 0); };
  auto functions = ListField(fields, "functions");
  element call;
  if (functions.size() == 1) {
    auto items = ListField(NodeOf(functions[0]).second, "items");
    if (!items.empty()) call = items[0];
  }
  auto [ck, cf] = NodeOf(call);
  auto names = ListField(cf, "funcname");
  std::string name = names.empty() ? "" : StringNode(names.back());
  if (ck != "FuncCall" || (name != "tumble" && name != "hop")) {
    return Status(StatusCode::kUnimplemented,
                  "functions in FROM other than TUMBLE and HOP are not supported" + at(fields));
  }
  auto args = ListField(cf, "args");
  const size_t want = name == "tumble" ? 3 : 4;
  if (args.size() != want) {
    return InvalidArgument(name == "tumble"
                               ? "TUMBLE takes (table, time column, size)" + at(cf)
                               : "HOP takes (table, time column, slide, size)" + at(cf));
  }
  auto plain_name = [&](element node) -> std::string {
    auto [k, f] = NodeOf(node);
    auto parts = ListField(f, "fields");
    return k == "ColumnRef" && parts.size() == 1 ? StringNode(parts[0]) : "";
  };
  std::string table = plain_name(args[0]);
  if (auto cte = ctx.ctes.find(table); cte != ctx.ctes.end()) table = cte->second;
  auto schema = catalog.find(table);
  if (table.empty() || schema == catalog.end()) {
    return InvalidArgument("the first argument of " + name + " must name a table" +
                           at(NodeOf(args[0]).second));
  }
  auto plan = std::make_unique<BoundSelect>();
  plan->into = ctx.NewName(name);
  plan->location = source.Position(std::max<int64_t>(LocationOf(cf), 0));
  InputTable in;
  in.table = table;
  in.alias = plain_name(args[0]);
  in.schema = schema->second;
  plan->inputs.push_back(in);
  plan->input_schema = in.schema;
  WindowSpec window;
  std::string time_col = plain_name(args[1]);
  auto time_index = in.schema.FindField(time_col);
  if (!time_index || in.schema.fields[*time_index].type != FieldType::kTimestamp) {
    return InvalidArgument("the second argument of " + name + " must be a timestamp column of " +
                           in.alias + at(NodeOf(args[1]).second));
  }
  window.time_column = *time_index;
  // The sizes are constants: bind them without any columns in scope and evaluate once.
  std::vector<InputTable> no_tables;
  StatementBinder constants(source, no_tables);
  std::vector<int64_t> durations;
  for (size_t i = 2; i < args.size(); ++i) {
    ASSIGN_OR_RETURN(ExprPtr e, constants.Bind(args[i]));
    if (IsUnknownLiteral(*e)) {
      ASSIGN_OR_RETURN(e, Coerce(std::move(e), FieldType::kDuration));
    }
    auto v = e->Eval({});
    if (e->type() != FieldType::kDuration || !v.ok() || v->is_null() || v->as_int() <= 0) {
      return InvalidArgument("window sizes must be positive intervals, e.g. INTERVAL '10 seconds'" +
                             at(NodeOf(args[i]).second));
    }
    durations.push_back(v->as_int());
  }
  window.size_micros = durations.back();
  window.slide_micros = durations.front();
  plan->window = window;
  plan->output_schema = in.schema;
  plan->output_schema.primary_key.clear();
  plan->output_schema.fields.push_back({"window_start", FieldType::kTimestamp, false});
  plan->output_schema.fields.push_back({"window_end", FieldType::kTimestamp, false});
  RETURN_IF_ERROR(AddToCatalog(catalog, *plan));
  InputTable result;
  result.table = plan->into;
  result.alias = in.alias;
  element alias_node;
  if (!fields["alias"].get(alias_node)) result.alias = StringField(alias_node, "aliasname");
  result.schema = plan->output_schema;
  ctx.internal.push_back(std::move(plan));
  return result;
}

// ORDER BY ... LIMIT n [OFFSET m]: the sort keys must be output columns (by name, position or
// the same expression as a select item), since the top-n runs on the statement's output.
Status BindOrderAndLimit(const SqlSource& source, element select,
                         const std::vector<element>& targets, BoundSelect& plan, int64_t stmt_loc) {
  auto at = [&](element e) { return AtLocation(source, e, stmt_loc); };
  auto constant_int = [&](const char* clause) -> Result<std::optional<int64_t>> {
    element node;
    if (select[clause].get(node)) return std::optional<int64_t>();
    auto [k, f] = NodeOf(node);
    if (k == "A_Const" && HasField(f, "isnull")) return std::optional<int64_t>();
    element iv;
    if (k != "A_Const" || f["ival"].get(iv)) {
      return Status(StatusCode::kUnimplemented,
                    std::string(clause == std::string("limitCount") ? "LIMIT" : "OFFSET") +
                        " with anything but an integer constant is not supported" + at(f));
    }
    int64_t n = 0;
    TryGet(iv["ival"], n);
    if (n < 0) return InvalidArgument("LIMIT and OFFSET must not be negative" + at(f));
    return std::optional<int64_t>(n);
  };
  ASSIGN_OR_RETURN(auto limit, constant_int("limitCount"));
  ASSIGN_OR_RETURN(auto offset, constant_int("limitOffset"));
  if (!limit && !offset) return Status::OK();  // ORDER BY alone does not change a table
  plan.limit = limit.value_or(INT64_MAX);
  plan.offset = offset.value_or(0);
  for (auto item : ListField(select, "sortClause")) {
    auto [sk, sf] = NodeOf(item);
    element node;
    TryGet(sf["node"], node);
    auto [nk, nf] = NodeOf(node);
    std::optional<size_t> column;
    element iv;
    if (nk == "A_Const" && !nf["ival"].get(iv)) {
      int64_t ordinal = 0;
      TryGet(iv["ival"], ordinal);
      if (ordinal < 1 || ordinal > int64_t(plan.output_schema.fields.size())) {
        return InvalidArgument("ORDER BY position " + std::to_string(ordinal) +
                               " is not in select list" + at(nf));
      }
      column = size_t(ordinal - 1);
    }
    auto parts = ListField(nf, "fields");
    if (!column && nk == "ColumnRef" && parts.size() == 1) {
      column = plan.output_schema.FindField(StringNode(parts[0]));
    }
    for (size_t i = 0; !column && i < targets.size(); ++i) {
      element val;
      TryGet(NodeOf(targets[i]).second["val"], val);
      if (SameTree(val, node)) column = i;
    }
    if (!column || *column >= plan.output_schema.fields.size()) {
      return Status(StatusCode::kUnimplemented,
                    "ORDER BY with LIMIT on something that is not an output column is not "
                    "supported yet" +
                        at(nf));
    }
    BoundSelect::SortKey key;
    key.column = *column;
    key.descending = StringField(sf, "sortby_dir") == "SORTBY_DESC";
    std::string nulls = StringField(sf, "sortby_nulls");
    key.nulls_first =
        nulls == "SORTBY_NULLS_FIRST" || (nulls != "SORTBY_NULLS_LAST" && key.descending);
    plan.order_by.push_back(key);
  }
  return Status::OK();
}

// EXISTS / NOT EXISTS / IN / NOT IN (subquery) as a top-level WHERE condition becomes a semi
// or anti join; returns false when `part` is not one of them.
Result<bool> BindSubqueryFilter(const SqlSource& source, element part, TableCatalog& catalog,
                                BindContext& ctx, StatementBinder& binder, BoundSelect& plan) {
  auto [k, f] = NodeOf(part);
  bool negated = false;
  if (k == "BoolExpr" && StringField(f, "boolop") == "NOT_EXPR") {
    auto args = ListField(f, "args");
    if (args.size() == 1 && NodeOf(args[0]).first == "SubLink") {
      negated = true;
      std::tie(k, f) = NodeOf(args[0]);
    }
  }
  if (k != "SubLink") return false;
  std::string type = StringField(f, "subLinkType");
  auto at = [&](element e) { return AtLocation(source, e, 0); };
  element subselect;
  TryGet(f["subselect"], subselect);
  SemiJoinSpec spec;
  if (type == "EXISTS_SUBLINK") {
    ctx.outer = &plan.inputs;
    ctx.outer_keys.clear();
    auto name = BindInternal(source, subselect, catalog, ctx, "exists", LocationOf(f));
    ctx.outer = nullptr;
    if (!name.ok()) return name.status();
    spec.table = *name;
    spec.right_schema = catalog.at(spec.table);
    for (size_t i = 0; i < ctx.outer_keys.size(); ++i) {
      size_t outer_column = ctx.outer_keys[i];
      const Field& of = plan.input_schema.fields[outer_column];
      auto common = CommonType(of.type, spec.right_schema.fields[i].type);
      if (!common)
        return InvalidArgument("EXISTS compares " + std::string(FieldTypeName(of.type)) + " with " +
                               std::string(FieldTypeName(spec.right_schema.fields[i].type)) +
                               at(f));
      spec.left_keys.push_back(MakeColumn(outer_column, of.name, of.type));
      spec.key_types.push_back(*common);
    }
    spec.kind = negated ? SemiJoinSpec::Kind::kAnti : SemiJoinSpec::Kind::kSemi;
    spec.text = std::string(negated ? "NOT EXISTS " : "EXISTS ") + spec.table;
  } else if (type == "ANY_SUBLINK") {
    auto ops = ListField(f, "operName");
    if (!ops.empty() && StringNode(ops.back()) != "=") {
      return Status(StatusCode::kUnimplemented, "only IN / = ANY subqueries are supported" + at(f));
    }
    element test;
    TryGet(f["testexpr"], test);
    if (NodeOf(test).first == "RowExpr") {
      return Status(StatusCode::kUnimplemented,
                    "IN with several columns is not supported yet" + at(f));
    }
    ASSIGN_OR_RETURN(spec.table,
                     BindInternal(source, subselect, catalog, ctx, "in", LocationOf(f)));
    spec.right_schema = catalog.at(spec.table);
    if (spec.right_schema.fields.size() != 1) {
      return InvalidArgument("subquery has too many columns" + at(f));
    }
    ASSIGN_OR_RETURN(ExprPtr left, binder.Bind(test));
    if (IsUnknownLiteral(*left)) {
      ASSIGN_OR_RETURN(left, Coerce(std::move(left), spec.right_schema.fields[0].type));
    }
    auto common = CommonType(left->type(), spec.right_schema.fields[0].type);
    if (!common) return InvalidArgument("IN compares incompatible types" + at(f));
    spec.text = left->ToString() + (negated ? " NOT IN " : " IN ") + spec.table;
    spec.left_keys.push_back(std::move(left));
    spec.key_types.push_back(*common);
    spec.kind = negated ? SemiJoinSpec::Kind::kNotIn : SemiJoinSpec::Kind::kSemi;
  } else {
    return false;  // a scalar subquery inside a comparison: bound as an expression
  }
  plan.semi_joins.push_back(std::move(spec));
  return true;
}

Result<std::unique_ptr<BoundSelect>> BindSetOperation(const SqlSource& source, element select,
                                                      TableCatalog& catalog, BindContext& ctx,
                                                      const std::string& into, int64_t stmt_loc) {
  auto at = [&](element e) { return AtLocation(source, e, stmt_loc); };
  std::string op = StringField(select, "op");
  bool all = false;
  TryGet(select["all"], all);
  for (const char* clause : {"sortClause", "limitCount", "limitOffset"}) {
    if (HasField(select, clause)) {
      return Status(StatusCode::kUnimplemented,
                    "ORDER BY / LIMIT on a set operation is not supported yet" + at(select));
    }
  }
  element larg, rarg;
  TryGet(select["larg"], larg);
  TryGet(select["rarg"], rarg);
  auto plan = std::make_unique<BoundSelect>();
  plan->into = into;
  plan->location = source.Position(stmt_loc);
  plan->set_op = op == "SETOP_UNION"       ? (all ? SetOp::kUnionAll : SetOp::kUnion)
                 : op == "SETOP_INTERSECT" ? (all ? SetOp::kIntersectAll : SetOp::kIntersect)
                                           : (all ? SetOp::kExceptAll : SetOp::kExcept);
  std::string sides[2];
  ASSIGN_OR_RETURN(sides[0], BindInternal(source, larg, catalog, ctx, "left", stmt_loc));
  ASSIGN_OR_RETURN(sides[1], BindInternal(source, rarg, catalog, ctx, "right", stmt_loc));
  BoundSelect* side_plans[2] = {nullptr, nullptr};
  for (auto& p : ctx.internal) {
    for (int i = 0; i < 2; ++i) {
      if (p->into == sides[i]) side_plans[i] = p.get();
    }
  }
  Schema& left = side_plans[0]->output_schema;
  Schema& right = side_plans[1]->output_schema;
  std::string op_name = op == "SETOP_UNION"       ? "UNION"
                        : op == "SETOP_INTERSECT" ? "INTERSECT"
                                                  : "EXCEPT";
  if (left.fields.size() != right.fields.size()) {
    return InvalidArgument("each " + op_name + " query must have the same number of columns" +
                           at(select));
  }
  // Columns take the common type of both sides; a plain SELECT side is cast to it.
  for (size_t c = 0; c < left.fields.size(); ++c) {
    FieldType lt = left.fields[c].type, rt = right.fields[c].type;
    auto common = CommonType(lt, rt);
    if (!common) {
      return InvalidArgument(op_name + " types " + std::string(FieldTypeName(lt)) + " and " +
                             std::string(FieldTypeName(rt)) + " cannot be matched" + at(select));
    }
    for (BoundSelect* side : side_plans) {
      Field& f = side->output_schema.fields[c];
      if (f.type == *common) continue;
      if (side->set_op || side->aggregated) {
        // Aggregated and nested set sides carry their types as computed; ask for a cast.
        if (side->set_op) {
          return InvalidArgument(op_name + " types " + std::string(FieldTypeName(lt)) + " and " +
                                 std::string(FieldTypeName(rt)) +
                                 " differ; add a CAST in the inner query" + at(select));
        }
      }
      ASSIGN_OR_RETURN(side->projections[c], Coerce(std::move(side->projections[c]), *common));
      f.type = *common;
    }
    Field out = left.fields[c];
    out.type = *common;
    out.nullable = true;
    plan->output_schema.fields.push_back(out);
  }
  for (int i = 0; i < 2; ++i) {
    InputTable input;
    input.table = sides[i];
    input.alias = sides[i];
    input.schema = side_plans[i]->output_schema;
    input.offset = plan->input_schema.fields.size();
    for (const auto& f : input.schema.fields) plan->input_schema.fields.push_back(f);
    plan->inputs.push_back(std::move(input));
  }
  RETURN_IF_ERROR(AddToCatalog(catalog, *plan));
  return plan;
}

Result<std::unique_ptr<BoundSelect>> BindQuery(const SqlSource& source, element select,
                                               TableCatalog& catalog, BindContext& ctx,
                                               const std::string& into, int64_t stmt_loc) {
  auto at = [&](element e) { return AtLocation(source, e, stmt_loc); };
  auto unsupported = [&](const std::string& what, element fields) {
    return Status(StatusCode::kUnimplemented, what + " is not supported yet" + at(fields));
  };
  if (NodeOf(select).first == "SelectStmt") select = NodeOf(select).second;
  element with;
  if (!select["withClause"].get(with)) {
    bool recursive = false;
    TryGet(with["recursive"], recursive);
    if (recursive) return unsupported("WITH RECURSIVE", with);
    for (auto cte : ListField(with, "ctes")) {
      auto [ck, cf] = NodeOf(cte);
      std::string name = StringField(cf, "ctename");
      element query;
      TryGet(cf["ctequery"], query);
      ASSIGN_OR_RETURN(std::string internal, BindInternal(source, query, catalog, ctx,
                                                          "with_" + name + "_", LocationOf(cf)));
      ctx.ctes[name] = internal;
    }
  }
  if (StringField(select, "op") != "SETOP_NONE") {
    return BindSetOperation(source, select, catalog, ctx, into, stmt_loc);
  }
  for (const char* clause : {"windowClause", "valuesLists", "lockingClause"}) {
    if (HasField(select, clause)) {
      static const std::map<std::string, std::string> kNames = {
          {"windowClause", "WINDOW"}, {"valuesLists", "VALUES"}, {"lockingClause", "FOR UPDATE"}};
      element part;
      TryGet(select[clause], part);
      array arr;
      element first = part;
      if (!part.get(arr) && arr.size() > 0) first = arr.at(0).value_unsafe();
      return unsupported(kNames.at(clause), NodeOf(first).second);
    }
  }
  auto plan = std::make_unique<BoundSelect>();
  plan->into = into;
  plan->location = source.Position(stmt_loc);
  auto distinct = ListField(select, "distinctClause");
  if (HasField(select, "distinctClause")) {
    bool plain = distinct.empty() || (distinct.size() == 1 && NodeOf(distinct[0]).first.empty() &&
                                      distinct[0].type() == element_type::OBJECT &&
                                      distinct[0].get_object().value_unsafe().size() == 0);
    if (!plain) return unsupported("DISTINCT ON", select);
    plan->distinct = true;
  }
  element into_rel = select;
  auto from = ListField(select, "fromClause");
  if (from.empty()) return InvalidArgument("SELECT without FROM is not supported" + at(into_rel));
  // Flatten FROM into a left-deep chain: inputs[0] JOIN inputs[1] ON ... JOIN inputs[2] ...
  std::vector<std::pair<JoinType, std::optional<element>>> steps;  // per join: type and ON
  // Appends one FROM table; aliases must be unique, as in PostgreSQL.
  auto add_input = [&](InputTable input, element item_fields) -> Status {
    for (const auto& other : plan->inputs) {
      if (other.alias == input.alias) {
        return InvalidArgument("table name \"" + input.alias + "\" specified more than once" +
                               at(item_fields));
      }
    }
    input.offset = plan->input_schema.fields.size();
    for (const auto& f : input.schema.fields) plan->input_schema.fields.push_back(f);
    plan->inputs.push_back(std::move(input));
    return Status::OK();
  };
  std::function<Status(element)> add_item = [&](element item) -> Status {
    auto [item_kind, item_fields] = NodeOf(item);
    if (item_kind == "RangeVar") {
      InputTable input;
      input.table = StringField(item_fields, "relname");
      std::string written = input.table;
      if (auto cte = ctx.ctes.find(input.table); cte != ctx.ctes.end()) input.table = cte->second;
      std::string schema_name = StringField(item_fields, "schemaname");
      if (!schema_name.empty() && schema_name != "public") {
        return InvalidArgument("schema \"" + schema_name + "\" does not exist" + at(item_fields));
      }
      auto table = catalog.find(input.table);
      if (table == catalog.end()) {
        return InvalidArgument("relation \"" + written + "\" does not exist" + at(item_fields));
      }
      input.schema = table->second;
      input.alias = written;
      element alias_node;
      if (!item_fields["alias"].get(alias_node)) input.alias = StringField(alias_node, "aliasname");
      return add_input(std::move(input), item_fields);
    }
    if (item_kind == "JoinExpr") {
      if (HasField(item_fields, "usingClause") || HasField(item_fields, "isNatural")) {
        return unsupported("JOIN ... USING / NATURAL JOIN (write ON a.x = b.x)", item_fields);
      }
      element larg, rarg;
      TryGet(item_fields["larg"], larg);
      TryGet(item_fields["rarg"], rarg);
      RETURN_IF_ERROR(add_item(larg));
      if (NodeOf(rarg).first == "JoinExpr") {
        return unsupported("a parenthesized join on the right side of JOIN", NodeOf(rarg).second);
      }
      RETURN_IF_ERROR(add_item(rarg));
      std::string type = StringField(item_fields, "jointype");
      JoinType jt = type == "JOIN_LEFT"    ? JoinType::kLeft
                    : type == "JOIN_RIGHT" ? JoinType::kRight
                    : type == "JOIN_FULL"  ? JoinType::kFull
                                           : JoinType::kInner;
      if (type != "JOIN_INNER" && type != "JOIN_LEFT" && type != "JOIN_RIGHT" &&
          type != "JOIN_FULL") {
        return unsupported("join type " + type, item_fields);
      }
      element quals;
      std::optional<element> on;
      if (!item_fields["quals"].get(quals)) on = quals;
      steps.emplace_back(jt, on);
      return Status::OK();
    }
    if (item_kind == "RangeSubselect") {
      bool lateral = false;
      TryGet(item_fields["lateral"], lateral);
      if (lateral) return unsupported("LATERAL", item_fields);
      element subquery, alias_node;
      TryGet(item_fields["subquery"], subquery);
      if (item_fields["alias"].get(alias_node)) {
        return InvalidArgument("subquery in FROM must have an alias" + at(item_fields));
      }
      InputTable input;
      ASSIGN_OR_RETURN(input.table, BindInternal(source, subquery, catalog, ctx, "subquery",
                                                 LocationOf(NodeOf(subquery).second)));
      input.alias = StringField(alias_node, "aliasname");
      input.schema = catalog.at(input.table);
      return add_input(std::move(input), item_fields);
    }
    if (item_kind == "RangeFunction") {
      ASSIGN_OR_RETURN(InputTable input, BindWindowFunction(source, item_fields, catalog, ctx));
      return add_input(std::move(input), item_fields);
    }
    return unsupported("this FROM item (" + std::string(item_kind) + ")", item_fields);
  };
  for (size_t i = 0; i < from.size(); ++i) {
    const size_t before = plan->inputs.size();
    RETURN_IF_ERROR(add_item(from[i]));
    // A comma is a cross join between what came before and the item's first table; WHERE
    // may supply its keys below.
    if (i > 0) steps.insert(steps.begin() + long(before - 1), {JoinType::kInner, std::nullopt});
  }
  if (steps.size() != plan->inputs.size() - 1) {
    return Internal("join steps do not match the FROM inputs");
  }

  // Which input a joined-row column belongs to.
  auto slot_of = [&](size_t column) {
    size_t slot = 0;
    while (slot + 1 < plan->inputs.size() && plan->inputs[slot + 1].offset <= column) ++slot;
    return slot;
  };
  // Splits a condition's parse tree into its top-level AND parts.
  std::function<void(element, std::vector<element>&)> conjuncts = [&](element node,
                                                                      std::vector<element>& out) {
    auto [k, f] = NodeOf(node);
    if (k == "BoolExpr" && StringField(f, "boolop") == "AND_EXPR") {
      for (auto a : ListField(f, "args")) conjuncts(a, out);
    } else {
      out.push_back(node);
    }
  };
  // If `node` is colA = colB across the boundary of join step i, the key pair.
  auto equi_key = [&](element node, size_t step,
                      size_t visible) -> std::optional<std::pair<size_t, size_t>> {
    auto [k, f] = NodeOf(node);
    if (k != "A_Expr" || StringField(f, "kind") != "AEXPR_OP") return std::nullopt;
    auto names = ListField(f, "name");
    if (names.empty() || StringNode(names.back()) != "=") return std::nullopt;
    element l, r;
    if (f["lexpr"].get(l) || f["rexpr"].get(r)) return std::nullopt;
    if (NodeOf(l).first != "ColumnRef" || NodeOf(r).first != "ColumnRef") return std::nullopt;
    StatementBinder scope(source, plan->inputs, visible);
    auto a = scope.ResolveColumn(NodeOf(l).second), b = scope.ResolveColumn(NodeOf(r).second);
    if (!a.ok() || !b.ok()) return std::nullopt;
    size_t sa = slot_of(*a), sb = slot_of(*b);
    if (sa <= step && sb == step + 1) return std::make_pair(*a, *b);
    if (sb <= step && sa == step + 1) return std::make_pair(*b, *a);
    return std::nullopt;
  };
  std::vector<element> where_parts;
  element where;
  const bool has_where = !select["whereClause"].get(where);
  if (has_where) conjuncts(where, where_parts);
  std::vector<bool> where_used(where_parts.size(), false);
  for (size_t i = 0; i < steps.size(); ++i) {
    JoinStep step;
    step.type = steps[i].first;
    const size_t visible = i + 2;
    const InputTable& right = plan->inputs[i + 1];
    std::vector<element> on_parts;
    if (steps[i].second) {
      if (ContainsAggregate(*steps[i].second)) {
        return InvalidArgument("aggregate functions are not allowed in JOIN conditions" +
                               at(NodeOf(*steps[i].second).second));
      }
      conjuncts(*steps[i].second, on_parts);
    }
    // An inner join may take its keys from WHERE too, when no later join can NULL-pad its
    // rows (a later RIGHT or FULL join would make WHERE see padded rows).
    bool take_from_where = step.type == JoinType::kInner;
    for (size_t later = i + 1; later < steps.size(); ++later) {
      if (steps[later].first == JoinType::kRight || steps[later].first == JoinType::kFull) {
        take_from_where = false;
      }
    }
    std::vector<element> residual_parts;
    auto take_key = [&](std::pair<size_t, size_t> key) -> Status {
      FieldType lt = plan->input_schema.fields[key.first].type;
      FieldType rt = plan->input_schema.fields[key.second].type;
      auto common = CommonType(lt, rt);
      if (!common) {
        return InvalidArgument("JOIN cannot compare " + std::string(FieldTypeName(lt)) + " with " +
                               std::string(FieldTypeName(rt)));
      }
      step.left_keys.push_back(key.first);
      step.right_keys.push_back(key.second - right.offset);
      step.key_types.push_back(*common);
      step.text += (step.text.empty() ? "" : " AND ") + plan->input_schema.fields[key.first].name +
                   " = " + right.alias + "." + plan->input_schema.fields[key.second].name;
      return Status::OK();
    };
    for (auto part : on_parts) {
      if (auto key = equi_key(part, i, visible)) {
        RETURN_IF_ERROR(take_key(*key));
      } else {
        residual_parts.push_back(part);
      }
    }
    if (take_from_where) {
      for (size_t w = 0; w < where_parts.size(); ++w) {
        if (where_used[w]) continue;
        if (auto key = equi_key(where_parts[w], i, visible)) {
          RETURN_IF_ERROR(take_key(*key));
          where_used[w] = true;
        }
      }
    }
    if (!residual_parts.empty()) {
      StatementBinder on_binder(source, plan->inputs, visible);
      std::vector<ExprPtr> bound;
      for (auto part : residual_parts) {
        ASSIGN_OR_RETURN(ExprPtr e, on_binder.Bind(part));
        if (IsUnknownLiteral(*e)) {
          ASSIGN_OR_RETURN(e, Coerce(std::move(e), FieldType::kBoolean));
        }
        if (e->type() != FieldType::kBoolean) {
          return InvalidArgument("argument of JOIN/ON must be type boolean" +
                                 at(NodeOf(part).second));
        }
        bound.push_back(std::move(e));
      }
      step.residual = bound.size() == 1 ? std::move(bound[0]) : MakeAnd(std::move(bound));
      step.text += (step.text.empty() ? "" : " AND ") + step.residual->ToString();
    }
    plan->joins.push_back(std::move(step));
  }

  StatementBinder row_binder(source, plan->inputs);
  // A scalar subquery becomes one more input, LEFT JOINed on true: its single value (or NULL
  // when it has no row) is then a column of the joined row.
  row_binder.SetSublinkHandler([&](element fields) -> Result<ExprPtr> {
    element subselect;
    TryGet(fields["subselect"], subselect);
    InputTable input;
    ASSIGN_OR_RETURN(input.table,
                     BindInternal(source, subselect, catalog, ctx, "scalar", LocationOf(fields)));
    input.schema = catalog.at(input.table);
    if (input.schema.fields.size() != 1) {
      return InvalidArgument("subquery must return only one column" + at(fields));
    }
    input.alias = input.table;
    input.offset = plan->input_schema.fields.size();
    plan->input_schema.fields.push_back(input.schema.fields[0]);
    plan->inputs.push_back(input);
    JoinStep step;
    step.type = JoinType::kLeft;
    step.text = "scalar subquery " + input.table;
    plan->joins.push_back(std::move(step));
    return MakeColumn(input.offset, "(" + input.table + ")", input.schema.fields[0].type);
  });
  // The join step that can check a WHERE condition instead: the step joining the last table
  // the condition names, when that step is INNER and no later join can NULL-pad the tables
  // before it (RIGHT/FULL). Conditions with subqueries stay in WHERE.
  std::function<bool(element, std::vector<element>&)> column_refs =
      [&](element node, std::vector<element>& out) -> bool {
    auto [k, f] = NodeOf(node);
    if (k == "SubLink") return false;
    if (k == "ColumnRef") {
      out.push_back(f);
      return true;
    }
    object obj;
    array arr;
    if (!node.get(obj)) {
      for (auto field : obj) {
        if (!column_refs(field.value, out)) return false;
      }
    } else if (!node.get(arr)) {
      for (auto item : arr) {
        if (!column_refs(item, out)) return false;
      }
    }
    return true;
  };
  auto pushdown_step = [&](element condition) -> std::optional<size_t> {
    if (plan->joins.empty()) return std::nullopt;
    std::vector<element> refs;
    if (!column_refs(condition, refs) || refs.empty()) return std::nullopt;
    size_t last_slot = 0;
    for (auto ref : refs) {
      auto column = row_binder.ResolveColumn(ref);
      if (!column.ok()) return std::nullopt;
      size_t slot = 0;
      while (slot + 1 < plan->inputs.size() && plan->inputs[slot + 1].offset <= *column) ++slot;
      last_slot = std::max(last_slot, slot);
    }
    if (last_slot == 0) return std::nullopt;
    const size_t step = last_slot - 1;
    if (plan->joins[step].type != JoinType::kInner) return std::nullopt;
    for (size_t later = step + 1; later < plan->joins.size(); ++later) {
      JoinType t = plan->joins[later].type;
      if (t == JoinType::kRight || t == JoinType::kFull) return std::nullopt;
    }
    return step;
  };
  // Correlated equalities of an EXISTS subquery being bound (see BindContext::outer).
  const std::vector<InputTable>* outer = ctx.outer;
  ctx.outer = nullptr;
  std::vector<std::pair<size_t, size_t>> correlations;  // inner column, outer column
  if (has_where) {
    if (ContainsAggregate(where)) {
      return InvalidArgument("aggregate functions are not allowed in WHERE" +
                             at(NodeOf(where).second));
    }
    std::vector<ExprPtr> kept;
    for (size_t w = 0; w < where_parts.size(); ++w) {
      if (where_used[w]) continue;
      if (outer) {
        auto [k, f] = NodeOf(where_parts[w]);
        auto names = ListField(f, "name");
        element l, r;
        if (k == "A_Expr" && StringField(f, "kind") == "AEXPR_OP" && !names.empty() &&
            StringNode(names.back()) == "=" && !f["lexpr"].get(l) && !f["rexpr"].get(r) &&
            NodeOf(l).first == "ColumnRef" && NodeOf(r).first == "ColumnRef") {
          StatementBinder outer_scope(source, *outer);
          auto li = row_binder.ResolveColumn(NodeOf(l).second),
               ri = row_binder.ResolveColumn(NodeOf(r).second);
          auto lo = outer_scope.ResolveColumn(NodeOf(l).second),
               ro = outer_scope.ResolveColumn(NodeOf(r).second);
          if (li.ok() && !ri.ok() && ro.ok()) {
            correlations.emplace_back(*li, *ro);
            continue;
          }
          if (ri.ok() && !li.ok() && lo.ok()) {
            correlations.emplace_back(*ri, *lo);
            continue;
          }
        }
      }
      ASSIGN_OR_RETURN(bool handled,
                       BindSubqueryFilter(source, where_parts[w], catalog, ctx, row_binder, *plan));
      if (handled) continue;
      ASSIGN_OR_RETURN(ExprPtr e, row_binder.Bind(where_parts[w]));
      if (IsUnknownLiteral(*e)) {
        ASSIGN_OR_RETURN(e, Coerce(std::move(e), FieldType::kBoolean));
      }
      if (e->type() != FieldType::kBoolean) {
        return InvalidArgument("argument of WHERE must be type boolean, not type " +
                               std::string(FieldTypeName(e->type())) +
                               at(NodeOf(where_parts[w]).second));
      }
      if (auto step = pushdown_step(where_parts[w])) {
        // An inner join checks the condition as soon as the tables it names are joined:
        // fewer rows travel on, and no separate filter copies every joined row.
        JoinStep& join = plan->joins[*step];
        join.text += (join.text.empty() ? "" : " AND ") + e->ToString();
        if (join.residual) {
          std::vector<ExprPtr> both;
          both.push_back(std::move(join.residual));
          both.push_back(std::move(e));
          join.residual = MakeAnd(std::move(both));
        } else {
          join.residual = std::move(e);
        }
        continue;
      }
      kept.push_back(std::move(e));
    }
    if (kept.size() == 1) {
      plan->where = std::move(kept[0]);
    } else if (!kept.empty()) {
      plan->where = MakeAnd(std::move(kept));
    }
  }

  auto targets = ListField(select, "targetList");
  auto groups = ListField(select, "groupClause");
  element having;
  bool has_having = !select["havingClause"].get(having);
  bool aggregated = !groups.empty() || has_having;
  for (auto t : targets) aggregated = aggregated || ContainsAggregate(t);
  plan->aggregated = aggregated;

  StatementBinder agg_binder(source, plan->inputs);
  StatementBinder& binder = aggregated ? agg_binder : row_binder;
  if (!aggregated) row_binder.EnableRanking(plan.get());
  if (aggregated) {
    for (auto g : groups) {
      auto [gkind, gfields] = NodeOf(g);
      element key_tree = g;
      if (gkind == "A_Const" && HasField(gfields, "ival")) {
        int64_t ordinal = 0;
        element iv;
        TryGet(gfields["ival"], iv);
        TryGet(iv["ival"], ordinal);
        if (ordinal < 1 || ordinal > int64_t(targets.size())) {
          return InvalidArgument("GROUP BY position " + std::to_string(ordinal) +
                                 " is not in select list" + at(gfields));
        }
        auto [tkind, tfields] = NodeOf(targets[size_t(ordinal - 1)]);
        TryGet(tfields["val"], key_tree);
      } else if (gkind == "GroupingSet" || gkind == "RowExpr") {
        return unsupported("GROUPING SETS / ROLLUP / CUBE", gfields);
      }
      if (ContainsAggregate(key_tree)) {
        return InvalidArgument("aggregate functions are not allowed in GROUP BY" + at(gfields));
      }
      ASSIGN_OR_RETURN(ExprPtr key, row_binder.Bind(key_tree));
      if (IsUnknownLiteral(*key)) {
        ASSIGN_OR_RETURN(key, Coerce(std::move(key), FieldType::kString));
      }
      // A plain column's index, not its name: two FROM tables may both have a `d`.
      std::optional<size_t> column;
      if (NodeOf(key_tree).first == "ColumnRef") column = key->column_index();
      plan->group_keys.push_back(std::move(key));
      agg_binder.AddGroupKeyTree(key_tree, column);
    }
    AddFunctionallyDependentKeys(*plan, agg_binder);
    agg_binder.EnableAggregation(plan.get());
  }

  std::set<std::string> names;
  // The output is keyed by the declared GROUP BY keys (not the dependent ones added above).
  std::vector<std::optional<size_t>> output_key_of(groups.size());
  for (auto t : targets) {
    auto [tkind, tfields] = NodeOf(t);
    element val;
    TryGet(tfields["val"], val);
    auto [vkind, vfields] = NodeOf(val);
    if (vkind == "ColumnRef") {
      auto parts = ListField(vfields, "fields");
      if (!parts.empty() && NodeOf(parts.back()).first == "A_Star") {
        if (aggregated) {
          return InvalidArgument("SELECT * cannot be used with GROUP BY or aggregates" +
                                 at(vfields));
        }
        // t.* expands one table, * all of them, in FROM order.
        std::string only = parts.size() == 2 ? StringNode(parts[0]) : "";
        bool found = only.empty();
        for (const InputTable& input : plan->inputs) {
          if (!only.empty() && input.alias != only) continue;
          found = true;
          for (size_t i = 0; i < input.schema.fields.size(); ++i) {
            const Field& f = input.schema.fields[i];
            if (!names.insert(f.name).second) {
              return InvalidArgument("column \"" + f.name + "\" specified more than once" +
                                     at(vfields));
            }
            plan->projections.push_back(MakeColumn(input.offset + i, f.name, f.type));
            plan->output_schema.fields.push_back(
                {f.name, f.type, plan->joins.empty() ? f.nullable : true});
          }
        }
        if (!found) {
          return InvalidArgument("missing FROM-clause entry for table \"" + only + "\"" +
                                 at(vfields));
        }
        continue;
      }
    }
    ASSIGN_OR_RETURN(ExprPtr e, binder.Bind(val));
    if (IsUnknownLiteral(*e)) {
      ASSIGN_OR_RETURN(e, Coerce(std::move(e), FieldType::kString));
    }
    std::string name = StringField(tfields, "name");
    if (name.empty()) name = FigureColumnName(val);
    if (!names.insert(name).second) {
      return InvalidArgument("column \"" + name +
                             "\" specified more than once (give it an alias with AS)" +
                             at(tfields));
    }
    bool nullable = true;
    if (aggregated) {
      // A select item that is exactly a group key makes that output column part of the key.
      // Over the aggregate's row [group keys..., aggregates...], a plain column below the key
      // count is exactly that group key.
      if (auto k = e->column_index(); k && *k < output_key_of.size() && !output_key_of[*k]) {
        output_key_of[*k] = plan->output_schema.fields.size();
      }
    } else if (auto c = e->column_index(); c && plan->joins.empty()) {
      // Columns past the input are ranking outputs (row_number() and friends): never NULL.
      const auto& input = plan->input_schema.fields;
      nullable = *c < input.size() ? input[*c].nullable : false;
    }
    plan->output_schema.fields.push_back({name, e->type(), nullable});
    plan->projections.push_back(std::move(e));
  }
  if (has_having) {
    ASSIGN_OR_RETURN(plan->having, agg_binder.Bind(having));
    if (plan->having->type() != FieldType::kBoolean) {
      return InvalidArgument("argument of HAVING must be type boolean" + at(NodeOf(having).second));
    }
  }
  if (aggregated && !plan->group_keys.empty()) {
    bool all_keys_projected = true;
    for (auto& k : output_key_of) all_keys_projected = all_keys_projected && k.has_value();
    if (all_keys_projected) {
      for (auto& k : output_key_of) plan->output_schema.primary_key.push_back(*k);
    }
  }
  RETURN_IF_ERROR(BindOrderAndLimit(source, select, targets, *plan, stmt_loc));
  if (outer) {
    // The subquery of EXISTS: what matters is which outer keys have a row; it outputs the
    // inner side of each correlated equality.
    if (plan->aggregated || plan->limit) {
      return Status(
          StatusCode::kUnimplemented,
          "EXISTS over an aggregating or limited subquery is not supported yet" + at(select));
    }
    plan->projections.clear();
    plan->output_schema = Schema();
    plan->ranking.reset();
    plan->distinct = false;
    ctx.outer_keys.clear();
    for (const auto& [inner, outer_column] : correlations) {
      const Field& f = plan->input_schema.fields[inner];
      plan->projections.push_back(MakeColumn(inner, f.name, f.type));
      plan->output_schema.fields.push_back(
          {"#key" + std::to_string(plan->projections.size()), f.type, true});
      ctx.outer_keys.push_back(outer_column);
    }
  } else if (!correlations.empty()) {
    return Internal("correlation found outside EXISTS");
  }
  RETURN_IF_ERROR(AddToCatalog(catalog, *plan));
  return plan;
}

}  // namespace

std::string_view JoinTypeName(JoinType type) {
  switch (type) {
    case JoinType::kInner:
      return "inner";
    case JoinType::kLeft:
      return "left outer";
    case JoinType::kRight:
      return "right outer";
    case JoinType::kFull:
      return "full outer";
  }
  return "?";
}

std::string BoundSelect::Describe() const {
  std::string out = "statement INTO " + into + " (sql " + location + ")\n";
  if (window) {
    out += "  -> " + std::string(window->slide_micros == window->size_micros ? "tumble" : "hop") +
           " windows over " + inputs[0].table + "." +
           input_schema.fields[window->time_column].name + " (size " +
           std::to_string(window->size_micros) + " us, slide " +
           std::to_string(window->slide_micros) + " us)\n";
    return out;
  }
  if (set_op) {
    static const char* kNames[] = {"UNION ALL",     "UNION",  "INTERSECT",
                                   "INTERSECT ALL", "EXCEPT", "EXCEPT ALL"};
    out += "  -> " + std::string(kNames[int(*set_op)]) + " (incremental) of " + inputs[0].table +
           " and " + inputs[1].table + "\n";
    return out;
  }
  out += "  scan " + inputs[0].table +
         (inputs[0].alias != inputs[0].table ? " AS " + inputs[0].alias : "") + "\n";
  for (size_t i = 0; i < joins.size(); ++i) {
    const InputTable& right = inputs[i + 1];
    out += "  -> " + std::string(JoinTypeName(joins[i].type)) + " join (incremental) with " +
           right.table + (right.alias != right.table ? " AS " + right.alias : "") + " on [" +
           (joins[i].text.empty() ? "true" : joins[i].text) + "]" +
           (joins[i].left_keys.empty() ? " (no equality: every pair is compared)" : "") + "\n";
  }
  for (const auto& sj : semi_joins) out += "  -> semi join (incremental) " + sj.text + "\n";
  if (where) out += "  -> filter " + where->ToString() + "\n";
  if (aggregated) {
    out += "  -> aggregate (incremental) by [";
    for (size_t i = 0; i < group_keys.size(); ++i)
      out += (i ? ", " : "") + group_keys[i]->ToString();
    out += "] computing [";
    for (size_t i = 0; i < aggregates.size(); ++i) out += (i ? ", " : "") + aggregates[i].text;
    out += "]\n";
    if (having) out += "  -> filter (HAVING) " + having->ToString() + "\n";
  }
  if (ranking) {
    out += "  -> ranking (incremental) partition by [";
    for (size_t i = 0; i < ranking->partition_by.size(); ++i) {
      out += (i ? ", " : "") + ranking->partition_by[i]->ToString();
    }
    out += "] order by [";
    for (size_t i = 0; i < ranking->order_by.size(); ++i) {
      out += (i ? ", " : "") + ranking->order_by[i].expr->ToString() +
             (ranking->order_by[i].descending ? " desc" : "");
    }
    out += "]\n";
  }
  out += "  -> project ";
  for (size_t i = 0; i < projections.size(); ++i) {
    out += (i ? ", " : "") + projections[i]->ToString() + " AS " + output_schema.fields[i].name;
  }
  out += "\n";
  if (distinct) out += "  -> distinct (incremental)\n";
  if (limit) {
    out += "  -> top-n (incremental): order by";
    for (const auto& k : order_by) {
      out += " " + output_schema.fields[k.column].name + (k.descending ? " desc" : "") +
             (k.nulls_first ? " nulls first" : "");
    }
    out += ", offset " + std::to_string(offset) + ", limit " +
           (*limit == INT64_MAX ? std::string("all") : std::to_string(*limit)) + "\n";
  }
  return out;
}

// The INTO of a statement: on the statement itself, or on the leftmost SELECT of a set
// operation (PostgreSQL's grammar puts it there).
std::optional<element> FindInto(element select) {
  element into;
  if (!select["intoClause"].get(into)) return into;
  element larg;
  if (!select["larg"].get(larg)) return FindInto(NodeOf(larg).second);
  return std::nullopt;
}

Result<std::vector<std::unique_ptr<BoundSelect>>> BindSqlScript(const std::string& sql,
                                                                int first_line,
                                                                TableCatalog& catalog, int indent) {
  auto source = std::make_shared<SqlSource>(sql, first_line, indent);
  ASSIGN_OR_RETURN(ParsedSql parsed, ParseSql(source));
  std::vector<std::unique_ptr<BoundSelect>> out;
  for (auto stmt : parsed.statements) {
    auto [kind, select] = NodeOf(stmt);
    if (kind != "SelectStmt") {
      return InvalidArgument("only SELECT ... INTO statements belong in sql: (found " +
                             std::string(kind) + ")");
    }
    auto into = FindInto(select);
    if (!into)
      return InvalidArgument("a statement has no INTO: write SELECT ... INTO <table> FROM ...");
    element rel;
    TryGet((*into)["rel"], rel);
    std::string name = StringField(rel, "relname");
    int64_t loc = LocationOf(rel);
    if (catalog.count(name)) {
      return InvalidArgument("relation \"" + name + "\" already exists at " +
                             source->Position(loc));
    }
    if (name.starts_with("#")) {
      return InvalidArgument("table names starting with '#' are Sluice's internal tables at " +
                             source->Position(loc));
    }
    BindContext ctx;
    ctx.statement = name;
    ASSIGN_OR_RETURN(auto plan, BindQuery(*source, select, catalog, ctx, name, loc));
    for (auto& internal : ctx.internal) out.push_back(std::move(internal));
    out.push_back(std::move(plan));
  }
  return out;
}

}  // namespace sluice
