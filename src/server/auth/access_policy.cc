#include "server/auth/access_policy.h"

#include <simdjson.h>

#include "cache/query_parser.h"
#include "types/row_json.h"

namespace sluice {
namespace {

thread_local simdjson::dom::parser tls_parser;

// The first column `node` reads that `access` does not allow.
std::optional<size_t> ForbiddenColumn(const FilterNode& node, const EndpointAccess& access) {
  switch (node.op) {
    case FilterNode::Op::kTrue:
      return std::nullopt;
    case FilterNode::Op::kAnd:
    case FilterNode::Op::kOr:
    case FilterNode::Op::kNot:
      for (const FilterNode& child : node.children) {
        if (auto c = ForbiddenColumn(child, access)) return c;
      }
      return std::nullopt;
    default:
      if (!access.Allows(node.column)) return node.column;
      return std::nullopt;
  }
}

Status Hidden(const RestEndpoint& endpoint, size_t column) {
  return PermissionDenied("field '" + endpoint.schema.fields[column].name + "' of endpoint " +
                          endpoint.name + " is not accessible");
}

}  // namespace

Result<AccessPolicy> AccessPolicy::Parse(std::string_view access_json,
                                         const std::vector<RestEndpoint>& endpoints) {
  simdjson::padded_string padded(access_json);
  auto doc = tls_parser.parse(padded);
  if (doc.error()) return InvalidArgument("access: not valid JSON");
  simdjson::dom::element root = doc.value();
  AccessPolicy policy;
  std::string_view text;
  if (!root.get(text)) {
    if (text == "all") return policy;
    return InvalidArgument("access: expected \"all\" or {\"endpoints\": {...}}");
  }
  simdjson::dom::object object, listed;
  if (root.get(object) || object.size() != 1 || object["endpoints"].get(listed)) {
    return InvalidArgument("access: expected \"all\" or {\"endpoints\": {...}}");
  }
  policy.all_ = false;
  for (auto [name, entry] : listed) {
    const RestEndpoint* endpoint = nullptr;
    for (const RestEndpoint& e : endpoints) {
      if (e.name == name) endpoint = &e;
    }
    if (!endpoint) continue;  // a token may name endpoints of other apps
    const std::string key(name);
    const std::string path = "access.endpoints." + key;
    simdjson::dom::object rules;
    if (entry.get(rules)) {
      policy.problems_[key] = path + ": expected an object";
      continue;
    }
    EndpointAccess access;
    bool ok = true;
    for (auto [rule, value] : rules) {
      if (rule == "filter") {
        auto filter = ParseFilterJson(endpoint->schema, simdjson::minify(value), path + ".filter");
        if (!filter.ok()) {
          policy.problems_[key] = filter.status().message();
          ok = false;
          break;
        }
        access.filter = std::move(*filter);
      } else if (rule == "fields") {
        simdjson::dom::array names;
        if (value.get(names)) {
          policy.problems_[key] = path + ".fields: expected an array of column names";
          ok = false;
          break;
        }
        access.fields.emplace(endpoint->schema.fields.size(), false);
        for (auto item : names) {
          std::string_view column;
          auto index = item.get(column) ? std::nullopt : endpoint->schema.FindField(column);
          if (!index) {
            policy.problems_[key] = path + ".fields: unknown column";
            ok = false;
            break;
          }
          (*access.fields)[*index] = true;
        }
        if (!ok) break;
      } else {
        policy.problems_[key] = path + ": unknown key '" + std::string(rule) + "'";
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    // (The claim's own filter may use columns the holder cannot see: it is the issuer's rule.)
    if (access.fields) {
      access.json_prefixes = JsonFieldPrefixes(endpoint->schema);
      for (size_t c = 0; c < access.json_prefixes.size(); ++c) {
        if (!(*access.fields)[c]) access.json_prefixes[c].clear();
      }
    }
    policy.endpoints_[key] = std::move(access);
  }
  return policy;
}

const EndpointAccess* AccessPolicy::For(const std::string& endpoint) const {
  static const EndpointAccess kEverything;
  if (all_) return &kEverything;
  auto it = endpoints_.find(endpoint);
  return it == endpoints_.end() ? nullptr : &it->second;
}

std::string AccessPolicy::Problem(const std::string& endpoint) const {
  auto it = problems_.find(endpoint);
  return it == problems_.end() ? "" : it->second;
}

Status AccessPolicy::Apply(const EndpointAccess& access, const RestEndpoint& endpoint,
                           FilterNode* filter) {
  if (access.fields) {
    if (auto c = ForbiddenColumn(*filter, access)) return Hidden(endpoint, *c);
  }
  if (access.filter.op == FilterNode::Op::kTrue) return Status::OK();
  if (filter->op == FilterNode::Op::kTrue) {
    *filter = access.filter;
    return Status::OK();
  }
  FilterNode both;
  both.op = FilterNode::Op::kAnd;
  both.children.push_back(std::move(*filter));
  both.children.push_back(access.filter);
  *filter = std::move(both);
  return Status::OK();
}

Status AccessPolicy::Apply(const EndpointAccess& access, const RestEndpoint& endpoint,
                           QuerySpec* spec) {
  if (access.fields) {
    if (auto c = ForbiddenColumn(spec->filter, access)) return Hidden(endpoint, *c);
    for (const OrderTerm& term : spec->order_by) {
      if (!access.Allows(term.column)) return Hidden(endpoint, term.column);
    }
  }
  return Apply(access, endpoint, &spec->filter);
}

}  // namespace sluice
