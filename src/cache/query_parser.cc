#include "cache/query_parser.h"

#include <simdjson.h>

#include <unordered_set>

#include "cache/text_tokens.h"
#include "types/key_codec.h"
#include "types/value_text.h"

namespace sluice {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using Op = FilterNode::Op;

thread_local simdjson::dom::parser tls_parser;

Status PathError(std::string_view path, std::string_view message) {
  return InvalidArgument(std::string(path) + ": " + std::string(message));
}

std::string Indexed(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

std::optional<Op> ComparisonOp(std::string_view name) {
  if (name == "$eq") return Op::kEq;
  if (name == "$ne") return Op::kNe;
  if (name == "$lt") return Op::kLt;
  if (name == "$lte") return Op::kLte;
  if (name == "$gt") return Op::kGt;
  if (name == "$gte") return Op::kGte;
  return std::nullopt;
}

bool IsTextType(FieldType type) { return type == FieldType::kString || type == FieldType::kText; }

// What one filter may ask, so no request can make the server evaluate without bound: nesting
// of $and/$or/$not, terms in all (a comparison, each $in/$nin value and each full-text word
// count one), and the size of one operand.
constexpr int kMaxFilterDepth = 32;
constexpr size_t kMaxFilterTerms = 10000;
constexpr size_t kMaxOperandBytes = 16 * 1024;

class FilterParser {
 public:
  explicit FilterParser(const Schema& schema) : schema_(schema) {}

  Result<FilterNode> Object(const element& json, const std::string& path, int depth = 0) {
    simdjson::dom::object object;
    if (json.get(object)) return PathError(path, "expected an object");
    if (depth > kMaxFilterDepth) {
      return PathError(path, "filters nest at most " + std::to_string(kMaxFilterDepth) +
                                 " levels of $and, $or and $not");
    }
    FilterNode node;
    node.op = Op::kAnd;
    for (auto [key, value] : object) {
      const std::string child_path = path + "." + std::string(key);
      if (key == "$and" || key == "$or") {
        simdjson::dom::array array;
        if (value.get(array)) return PathError(child_path, "expected an array of filters");
        FilterNode combined;
        combined.op = key == "$and" ? Op::kAnd : Op::kOr;
        size_t i = 0;
        for (element item : array) {
          ASSIGN_OR_RETURN(FilterNode child, Object(item, Indexed(child_path, i++), depth + 1));
          combined.children.push_back(std::move(child));
        }
        if (combined.children.empty()) return PathError(child_path, "expected at least one filter");
        node.children.push_back(std::move(combined));
      } else if (key == "$not") {
        ASSIGN_OR_RETURN(FilterNode inner, Object(value, child_path, depth + 1));
        FilterNode negated;
        negated.op = Op::kNot;
        negated.children.push_back(std::move(inner));
        node.children.push_back(std::move(negated));
      } else if (key.starts_with("$")) {
        return PathError(child_path, "unknown operator '" + std::string(key) +
                                         "' (expected a field name, $and, $or or $not)");
      } else {
        auto column = schema_.FindField(key);
        if (!column) return PathError(child_path, "unknown field '" + std::string(key) + "'");
        RETURN_IF_ERROR(Field(*column, value, child_path, &node.children));
      }
    }
    return Simplify(std::move(node));
  }

 private:
  static FilterNode Simplify(FilterNode node) {
    if (node.children.empty()) return FilterNode{};  // kTrue
    if (node.children.size() == 1) return std::move(node.children[0]);
    return node;
  }

  static bool IsOperatorObject(const element& json) {
    simdjson::dom::object object;
    if (json.get(object)) return false;
    for (auto [key, value] : object) {
      if (!key.starts_with("$")) return false;
    }
    return true;  // {} is an (empty) operator object too
  }

  Status Field(size_t column, const element& json, const std::string& path,
               std::vector<FilterNode>* out) {
    if (!IsOperatorObject(json)) return Comparison(column, Op::kEq, json, path, out);
    simdjson::dom::object object;
    if (json.get(object)) return PathError(path, "expected an object");
    size_t n = 0;
    for (auto [key, operand] : object) {
      ++n;
      const std::string op_path = path + "." + std::string(key);
      if (auto op = ComparisonOp(key)) {
        RETURN_IF_ERROR(Comparison(column, *op, operand, op_path, out));
      } else if (key == "$in" || key == "$nin") {
        RETURN_IF_ERROR(List(column, key == "$in" ? Op::kIn : Op::kNin, operand, op_path, out));
      } else if (key == "$prefix") {
        RETURN_IF_ERROR(Prefix(column, operand, op_path, out));
      } else if (key == "$contains" || key == "$matches_any") {
        RETURN_IF_ERROR(Words(column, key == "$contains" ? Op::kContains : Op::kMatchesAny, operand,
                              op_path, out));
      } else {
        return PathError(op_path, "unknown operator '" + std::string(key) +
                                      "' (expected $eq, $ne, $lt, $lte, $gt, $gte, $in, $nin, "
                                      "$prefix, $contains or $matches_any)");
      }
    }
    if (n == 0) return PathError(path, "expected a value or an operator object, got {}");
    return Status::OK();
  }

  static Status CheckOperandSize(std::string_view text, const std::string& path) {
    if (text.size() <= kMaxOperandBytes) return Status::OK();
    return PathError(
        path, "a string operand holds at most " + std::to_string(kMaxOperandBytes) + " bytes");
  }

  // Counts `n` terms against the filter's budget.
  Status Spend(size_t n, const std::string& path) {
    terms_ += n;
    if (terms_ > kMaxFilterTerms) {
      return PathError(path, "a filter holds at most " + std::to_string(kMaxFilterTerms) +
                                 " terms (comparisons, list values and words)");
    }
    return Status::OK();
  }

  Result<Value> Operand(size_t column, const element& json, const std::string& path) {
    RETURN_IF_ERROR(Spend(1, path));
    std::string_view text;
    if (!json.get(text)) RETURN_IF_ERROR(CheckOperandSize(text, path));
    const FieldType type = schema_.fields[column].type;
    if ((json.type() == element_type::OBJECT || json.type() == element_type::ARRAY) &&
        type != FieldType::kJson && type != FieldType::kPoint) {
      return PathError(path, std::string("expected a ") + std::string(FieldTypeName(type)) +
                                 " value, got " +
                                 (json.type() == element_type::ARRAY ? "an array" : "an object"));
    }
    auto value = ValueFromJson(type, json);
    if (!value.ok()) return PathError(path, value.status().message());
    return std::move(*value);
  }

  Status Comparison(size_t column, Op op, const element& json, const std::string& path,
                    std::vector<FilterNode>* out) {
    FilterNode node;
    node.op = op;
    node.column = column;
    ASSIGN_OR_RETURN(Value value, Operand(column, json, path));
    // Equality with null means IS NULL, inequality IS NOT NULL, as users of JSON filter
    // languages expect; every other comparison with null keeps SQL's "unknown".
    if (value.is_null() && (op == Op::kEq || op == Op::kNe)) {
      node.op = op == Op::kEq ? Op::kIsNull : Op::kIsNotNull;
    } else {
      if (!value.is_null())
        EncodeKeyValue(schema_.fields[column].type, value, &node.keys.emplace_back());
      node.values.push_back(std::move(value));
    }
    out->push_back(std::move(node));
    return Status::OK();
  }

  Status List(size_t column, Op op, const element& json, const std::string& path,
              std::vector<FilterNode>* out) {
    simdjson::dom::array array;
    if (json.get(array)) return PathError(path, "expected an array of values");
    FilterNode node;
    node.op = op;
    node.column = column;
    size_t i = 0;
    auto keys = std::make_shared<absl::flat_hash_set<std::string>>();
    for (element item : array) {
      ASSIGN_OR_RETURN(Value value, Operand(column, item, Indexed(path, i++)));
      // Values equal in key form (20 and 20.00, 0 and -0.0) are one value: the planner visits
      // one index range per value, and a repeat returned its rows twice.
      bool repeated;
      if (value.is_null()) {
        repeated = node.list_has_null;
        node.list_has_null = true;
      } else {
        std::string key;
        EncodeKeyValue(schema_.fields[column].type, value, &key);
        repeated = !keys->insert(std::move(key)).second;
      }
      if (!repeated) node.values.push_back(std::move(value));
    }
    node.key_set = std::move(keys);
    out->push_back(std::move(node));
    return Status::OK();
  }

  Status Prefix(size_t column, const element& json, const std::string& path,
                std::vector<FilterNode>* out) {
    if (!IsTextType(schema_.fields[column].type)) {
      return PathError(path, "$prefix needs a string field; '" + schema_.fields[column].name +
                                 "' is " + std::string(FieldTypeName(schema_.fields[column].type)));
    }
    std::string_view prefix;
    if (json.get(prefix)) return PathError(path, "expected a string");
    RETURN_IF_ERROR(Spend(1, path));
    RETURN_IF_ERROR(CheckOperandSize(prefix, path));
    FilterNode node;
    node.op = Op::kPrefix;
    node.column = column;
    node.values.emplace_back(prefix);
    out->push_back(std::move(node));
    return Status::OK();
  }

  Status Words(size_t column, Op op, const element& json, const std::string& path,
               std::vector<FilterNode>* out) {
    if (!IsTextType(schema_.fields[column].type)) {
      return PathError(path, "full-text search needs a string field; '" +
                                 schema_.fields[column].name + "' is " +
                                 std::string(FieldTypeName(schema_.fields[column].type)));
    }
    std::string_view text;
    if (json.get(text)) return PathError(path, "expected a string of words");
    FilterNode node;
    node.op = op;
    node.column = column;
    RETURN_IF_ERROR(CheckOperandSize(text, path));
    // A word said twice asks nothing more: each is looked up once.
    std::unordered_set<std::string> seen;
    for (std::string& word : TextWords(text)) {
      if (seen.insert(word).second) node.words.push_back(std::move(word));
    }
    if (node.words.empty()) return PathError(path, "expected at least one word");
    RETURN_IF_ERROR(Spend(node.words.size(), path));
    out->push_back(std::move(node));
    return Status::OK();
  }

  const Schema& schema_;
  size_t terms_ = 0;
};

Result<uint64_t> Count(const element& json, std::string_view path) {
  uint64_t n;
  if (json.get(n)) return PathError(path, "expected a non-negative integer");
  return n;
}

Result<std::vector<OrderTerm>> OrderFromObject(const Schema& schema, const element& json,
                                               std::string_view path) {
  simdjson::dom::object object;
  if (json.get(object)) {
    return PathError(path, "expected an object like {\"column\": \"asc\" | \"desc\"}");
  }
  std::vector<OrderTerm> terms;
  for (auto [key, direction] : object) {
    const std::string term_path = std::string(path) + "." + std::string(key);
    auto column = schema.FindField(key);
    if (!column) return PathError(term_path, "unknown field '" + std::string(key) + "'");
    std::string_view text;
    if (direction.get(text) || (text != "asc" && text != "desc")) {
      return PathError(term_path, "expected \"asc\" or \"desc\"");
    }
    terms.push_back({*column, text == "desc"});
  }
  return terms;
}

Result<std::vector<OrderTerm>> OrderFromText(const Schema& schema, std::string_view text,
                                             std::string_view path) {
  std::vector<OrderTerm> terms;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view term = text.substr(0, comma);
    text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
    size_t colon = term.find(':');
    std::string_view name = term.substr(0, colon);
    std::string_view direction = colon == std::string_view::npos ? "asc" : term.substr(colon + 1);
    auto column = schema.FindField(name);
    const std::string term_path = std::string(path) + "." + std::string(name);
    if (!column) return PathError(term_path, "unknown field '" + std::string(name) + "'");
    if (direction != "asc" && direction != "desc") {
      return PathError(term_path, "expected asc or desc after ':'");
    }
    terms.push_back({*column, direction == "desc"});
  }
  return terms;
}

}  // namespace

Result<FilterNode> ParseFilterJson(const Schema& schema, std::string_view json,
                                   std::string_view path) {
  simdjson::padded_string padded(json);
  auto doc = tls_parser.parse(padded);
  if (doc.error()) {
    return PathError(path, std::string("not valid JSON: ") + simdjson::error_message(doc.error()));
  }
  return FilterParser(schema).Object(doc.value(), std::string(path));
}

Result<std::vector<OrderTerm>> ParseOrderBy(const Schema& schema, std::string_view text,
                                            std::string_view path) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    simdjson::padded_string padded(text);
    auto doc = tls_parser.parse(padded);
    if (doc.error()) {
      return PathError(path,
                       std::string("not valid JSON: ") + simdjson::error_message(doc.error()));
    }
    return OrderFromObject(schema, doc.value(), path);
  }
  return OrderFromText(schema, text, path);
}

Result<QuerySpec> ParseQueryJson(const Schema& schema, std::string_view json, QueryBodyKind kind,
                                 const QueryLimits& limits) {
  QuerySpec spec;
  // A count counts every match unless the body pages ($skip/$limit/$after: the rows that page
  // would hold), so one query object serves /query and /count alike.
  spec.limit = kind == QueryBodyKind::kCount ? UINT64_MAX : limits.default_limit;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return spec;
  simdjson::padded_string padded(json);
  auto doc = tls_parser.parse(padded);
  if (doc.error()) {
    return InvalidArgument(std::string("body is not valid JSON: ") +
                           simdjson::error_message(doc.error()));
  }
  simdjson::dom::object root;
  if (doc.get(root)) return InvalidArgument("body must be a JSON object");
  for (auto [key, value] : root) {
    if (key == "$filter") {
      ASSIGN_OR_RETURN(spec.filter, FilterParser(schema).Object(value, "$filter"));
    } else if (key == "$order_by") {
      ASSIGN_OR_RETURN(spec.order_by, OrderFromObject(schema, value, "$order_by"));
    } else if (key == "$limit") {
      ASSIGN_OR_RETURN(spec.limit, Count(value, "$limit"));
      if (spec.limit > limits.max_limit) {
        return PathError("$limit", "must be at most " + std::to_string(limits.max_limit));
      }
    } else if (key == "$skip") {
      ASSIGN_OR_RETURN(spec.skip, Count(value, "$skip"));
    } else if (key == "$after") {
      std::string_view cursor;
      if (value.get(cursor)) return PathError("$after", "expected a cursor string");
      spec.after = std::string(cursor);
    } else {
      return InvalidArgument("unknown key '" + std::string(key) + "' (expected " +
                             "$filter, $order_by, $limit, $skip, $after" + ")");
    }
  }
  return spec;
}

}  // namespace sluice
