// FilterMatches (query.h): SQL's three-valued logic over a decoded row. Values compare through
// the key codec, so filters order values exactly as the indexes do (and as PostgreSQL does
// with the C collation: NaN above every number, NULLs handled apart).
#include <algorithm>

#include "cache/query.h"
#include "cache/text_tokens.h"
#include "types/key_codec.h"

namespace sluice {
namespace {

using Op = FilterNode::Op;
enum class Truth { kFalse, kTrue, kUnknown };

Truth FromBool(bool b) { return b ? Truth::kTrue : Truth::kFalse; }

// The row's words, computed once per row and text column however many terms ask.
bool HasWords(const Value& text, const std::vector<std::string>& words, bool all) {
  std::vector<std::string> row_words = TextWords(text.as_string());
  std::sort(row_words.begin(), row_words.end());
  for (const std::string& word : words) {
    const bool found = std::binary_search(row_words.begin(), row_words.end(), word);
    if (found && !all) return true;
    if (!found && all) return false;
  }
  return all;
}

// The row's value against the node's operand(s), both in the key encoding, so values compare
// exactly as the indexes order them. The operands were encoded when the filter was parsed.
Truth EvaluateColumn(const FilterNode& node, const Record& row, const Schema& schema) {
  const Value& value = row[node.column];
  if (node.op == Op::kIsNull) return FromBool(value.is_null());
  if (node.op == Op::kIsNotNull) return FromBool(!value.is_null());
  if (value.is_null()) return Truth::kUnknown;
  const FieldType type = schema.fields[node.column].type;
  auto encoded = [&] {
    std::string key;
    EncodeKeyValue(type, value, &key);
    return key;
  };
  switch (node.op) {
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte: {
      if (node.keys.empty()) return Truth::kUnknown;  // compared with null
      const int c = encoded().compare(node.keys[0]);
      switch (node.op) {
        case Op::kEq:
          return FromBool(c == 0);
        case Op::kNe:
          return FromBool(c != 0);
        case Op::kLt:
          return FromBool(c < 0);
        case Op::kLte:
          return FromBool(c <= 0);
        case Op::kGt:
          return FromBool(c > 0);
        default:
          return FromBool(c >= 0);
      }
    }
    case Op::kIn:
    case Op::kNin: {
      const bool found = node.key_set && node.key_set->contains(encoded());
      // x IN (.., NULL) is unknown unless x is found; NOT IN flips true and false only.
      Truth in = found ? Truth::kTrue : node.list_has_null ? Truth::kUnknown : Truth::kFalse;
      if (node.op == Op::kIn || in == Truth::kUnknown) return in;
      return in == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
    }
    case Op::kPrefix:
      return FromBool(value.as_string().starts_with(node.values[0].as_string()));
    case Op::kContains:
      return FromBool(HasWords(value, node.words, true));
    case Op::kMatchesAny:
      return FromBool(HasWords(value, node.words, false));
    default:
      return Truth::kFalse;
  }
}

Truth EvaluateNode(const FilterNode& node, const Record& row, const Schema& schema) {
  switch (node.op) {
    case Op::kTrue:
      return Truth::kTrue;
    case Op::kAnd: {
      Truth result = Truth::kTrue;
      for (const FilterNode& child : node.children) {
        Truth t = EvaluateNode(child, row, schema);
        if (t == Truth::kFalse) return t;
        if (t == Truth::kUnknown) result = t;
      }
      return result;
    }
    case Op::kOr: {
      Truth result = Truth::kFalse;
      for (const FilterNode& child : node.children) {
        Truth t = EvaluateNode(child, row, schema);
        if (t == Truth::kTrue) return t;
        if (t == Truth::kUnknown) result = t;
      }
      return result;
    }
    case Op::kNot: {
      Truth t = EvaluateNode(node.children[0], row, schema);
      return t == Truth::kUnknown ? t : t == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
    }
    default:
      return EvaluateColumn(node, row, schema);
  }
}

}  // namespace

bool FilterMatches(const FilterNode& filter, const Schema& schema, const Record& row) {
  return EvaluateNode(filter, row, schema) == Truth::kTrue;
}

}  // namespace sluice
