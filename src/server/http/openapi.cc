#include "server/http/openapi.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "server/http/rest_api.h"
#include "types/value_text.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

namespace sluice {
namespace {

// ---- JSON text. Every helper returns one complete JSON value; Members hold JSON texts.

using Members = std::vector<std::pair<std::string, std::string>>;

std::string Str(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string Obj(const Members& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    AppendJsonString(key, &out);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

std::string Arr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += item;
  }
  out += ']';
  return out;
}

std::string StrArr(const std::vector<std::string>& strings) {
  std::vector<std::string> items;
  for (const std::string& s : strings) items.push_back(Str(s));
  return Arr(items);
}

std::string Ref(std::string_view kind, std::string_view name) {
  return Obj({{"$ref", Str("#/components/" + std::string(kind) + "/" + std::string(name))}});
}

std::string SchemaRef(std::string_view name) { return Ref("schemas", name); }

std::string JsonContent(const std::string& schema) {
  return Obj({{"application/json", Obj({{"schema", schema}})}});
}

// ---- Names.

constexpr FieldType kAllTypes[] = {
    FieldType::kBoolean, FieldType::kInt,       FieldType::kUInt,     FieldType::kFloat,
    FieldType::kDecimal, FieldType::kString,    FieldType::kText,     FieldType::kBinary,
    FieldType::kDate,    FieldType::kTimestamp, FieldType::kDuration, FieldType::kJson,
    FieldType::kPoint,
};

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// "order_items" -> "OrderItems": letters and digits kept, anything else separates words.
std::string PascalCase(std::string_view name) {
  std::string out;
  bool word_start = true;
  for (char c : name) {
    if (!IsAlnum(c)) {
      word_start = true;
      continue;
    }
    out += word_start ? char(std::toupper(static_cast<unsigned char>(c))) : c;
    word_start = false;
  }
  return out.empty() ? "Endpoint" : out;
}

// "Order Items" -> "order_items".
std::string SnakeCase(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (IsAlnum(c)) {
      out += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "endpoint" : out;
}

std::string Unique(const std::string& candidate, std::set<std::string>* used) {
  std::string name = candidate;
  for (int n = 2; !used->insert(name).second; ++n) name = candidate + "_" + std::to_string(n);
  return name;
}

// The suffixes after `base` (Record, Filter, OrderBy, QueryBody, CountBody) are never a
// proper suffix of one another, and the shared schema names end in none of them, so distinct
// bases give distinct names. Operation ids end in `_<action>` with actions free of '_' (the
// service routes' ids end in none), and the service routes' tag "Sluice" has a capital no `id`
// has.
struct EndpointNames {
  std::string base;  // PascalCase: the prefix of the endpoint's component names
  std::string id;    // snake_case: the prefix of its operation ids, and its tag
};

std::vector<EndpointNames> AssignNames(const std::vector<RestEndpoint>& endpoints) {
  std::set<std::string> bases, ids;
  std::vector<EndpointNames> names;
  for (const RestEndpoint& e : endpoints) {
    names.push_back({Unique(PascalCase(e.name), &bases), Unique(SnakeCase(e.name), &ids)});
  }
  return names;
}

std::string OperatorsSchemaName(FieldType type) {
  return PascalCase(FieldTypeName(type)) + "Operators";
}

// ---- Values (docs/rest.md "Values").

// How a value of `type` appears in records. For a nullable field `nullable` sits beside
// `type`; in a oneOf it goes into the first alternative only, as OpenAPI 3.0 ignores it where
// there is no `type` and null must match exactly one alternative.
std::string ValueSchema(FieldType type, bool nullable) {
  auto typed = [nullable](Members m) {
    if (nullable) m.emplace_back("nullable", "true");
    return Obj(m);
  };
  auto one_of = [&](Members first, const Members& second, std::string_view description) {
    return Obj({{"oneOf", Arr({typed(std::move(first)), Obj(second)})},
                {"description", Str(description)}});
  };
  const std::string string = Str("string");
  switch (type) {
    case FieldType::kBoolean:
      return typed({{"type", Str("boolean")}});
    case FieldType::kInt:
      return one_of({{"type", Str("integer")}, {"format", Str("int64")}},
                    {{"type", string}, {"pattern", Str("^-?[0-9]+$")}},
                    "A signed 64-bit integer; beyond ±2^53, where JavaScript numbers lose "
                    "precision, a string of digits.");
    case FieldType::kUInt:
      return one_of({{"type", Str("integer")}, {"format", Str("uint64")}, {"minimum", "0"}},
                    {{"type", string}, {"pattern", Str("^[0-9]+$")}},
                    "An unsigned 64-bit integer; beyond 2^53, where JavaScript numbers lose "
                    "precision, a string of digits.");
    case FieldType::kFloat:
      return one_of({{"type", Str("number")}, {"format", Str("double")}},
                    {{"type", string}, {"enum", StrArr({"NaN", "Infinity", "-Infinity"})}},
                    "A double; NaN and ±Infinity as strings.");
    case FieldType::kDecimal:
      return typed({{"type", string},
                    {"format", Str("decimal")},
                    {"description", Str("An exact decimal with the stored scale.")},
                    {"example", Str("19.90")}});
    case FieldType::kString:
      return typed({{"type", string}});
    case FieldType::kText:
      return typed({{"type", string},
                    {"description", Str("Text; filters can match its words ($contains, "
                                        "$matches_any).")}});
    case FieldType::kBinary:
      return typed({{"type", string}, {"format", Str("byte")}, {"description", Str("Base64.")}});
    case FieldType::kDate:
      return typed({{"type", string}, {"format", Str("date")}, {"example", Str("2026-11-23")}});
    case FieldType::kTimestamp:
      return typed({{"type", string},
                    {"format", Str("date-time")},
                    {"description", Str("RFC 3339 in UTC.")},
                    {"example", Str("2026-11-23T10:15:30.5Z")}});
    case FieldType::kDuration:
      // No `format: duration`: that is RFC 3339's, which has no fractions or signs.
      return typed({{"type", string},
                    {"description", Str("ISO 8601, possibly negative or fractional.")},
                    {"example", Str("PT1H30M0.5S")}});
    case FieldType::kJson:
      // No `type`: any JSON value, null included.
      return Obj({{"description", Str("Any JSON value, embedded as it is stored.")}});
    case FieldType::kPoint: {
      const std::string coordinate = ValueSchema(FieldType::kFloat, false);
      return typed({{"type", Str("object")},
                    {"required", StrArr({"x", "y"})},
                    {"properties", Obj({{"x", coordinate}, {"y", coordinate}})},
                    {"additionalProperties", "false"}});
    }
  }
  return Obj({});
}

// A filter operand: the record forms, and for decimals also JSON numbers.
std::string OperandSchema(FieldType type) {
  if (type == FieldType::kDecimal) {
    return Obj({{"oneOf", Arr({Obj({{"type", Str("string")}, {"format", Str("decimal")}}),
                               Obj({{"type", Str("number")}})})},
                {"description", Str("A decimal as a string or a number.")}});
  }
  return ValueSchema(type, false);
}

// The {id} of GET {path}/{id}: the key value as text in the URL.
std::string KeyParameterSchema(FieldType type) {
  switch (type) {
    case FieldType::kInt:
      return Obj({{"type", Str("integer")}, {"format", Str("int64")}});
    case FieldType::kUInt:
      return Obj({{"type", Str("integer")}, {"format", Str("uint64")}, {"minimum", "0"}});
    case FieldType::kFloat:
      return Obj({{"type", Str("number")}, {"format", Str("double")}});
    case FieldType::kBinary:
      return Obj({{"type", Str("string")}, {"description", Str("Base64, or \\x and hex.")}});
    case FieldType::kPoint:
      return Obj({{"type", Str("string")}, {"example", Str("(1.5,2)")}});
    case FieldType::kJson:
      return Obj({{"type", Str("string")}});
    default:
      return OperandSchema(type);
  }
}

// ---- Component schemas.

std::string RecordSchema(const RestEndpoint& e) {
  Members properties;
  std::vector<std::string> required;
  for (const Field& f : e.schema.fields) {
    properties.emplace_back(f.name, ValueSchema(f.type, f.nullable));
    required.push_back(f.name);
  }
  std::string description = "A record of `" + e.table + "` as served at `" + e.path + "`";
  if (e.schema.has_primary_key()) {
    description += "; primary key:";
    for (size_t k : e.schema.primary_key) description += " `" + e.schema.fields[k].name + "`";
  } else {
    description += "; no primary key (rows come in insertion order)";
  }
  Members m{{"type", Str("object")}, {"description", Str(description + ".")}};
  if (!required.empty()) m.emplace_back("required", StrArr(required));  // 3.0: minItems 1
  m.emplace_back("properties", Obj(properties));
  m.emplace_back("additionalProperties", "false");
  return Obj(m);
}

std::string OperatorsSchema(FieldType type) {
  const std::string operand = OperandSchema(type);
  const std::string list = Obj({{"type", Str("array")}, {"items", operand}});
  Members ops;
  for (const char* op : {"$eq", "$ne", "$lt", "$lte", "$gt", "$gte"}) ops.emplace_back(op, operand);
  ops.emplace_back("$in", list);
  ops.emplace_back("$nin", list);
  if (type == FieldType::kString || type == FieldType::kText) {
    auto text = [](std::string_view description) {
      return Obj({{"type", Str("string")}, {"description", Str(description)}});
    };
    ops.emplace_back("$prefix", text("The value starts with this text."));
    ops.emplace_back("$contains", text("Every word of this text occurs in the value."));
    ops.emplace_back("$matches_any", text("At least one word of this text occurs in the value."));
  }
  return Obj({{"type", Str("object")},
              {"description", Str("Operators on a " + std::string(FieldTypeName(type)) +
                                  " field; all given must hold. NULL matches none of them.")},
              {"minProperties", "1"},
              {"additionalProperties", "false"},
              {"properties", Obj(ops)}});
}

std::string FilterSchema(const RestEndpoint& e, const EndpointNames& n) {
  const std::string self = SchemaRef(n.base + "Filter");
  Members properties;
  for (const Field& f : e.schema.fields) {
    properties.emplace_back(
        f.name,
        Obj({{"anyOf", Arr({OperandSchema(f.type), SchemaRef(OperatorsSchemaName(f.type))})}}));
  }
  auto filters = [&](std::string_view description) {
    return Obj({{"type", Str("array")},
                {"items", self},
                {"minItems", "1"},
                {"description", Str(description)}});
  };
  properties.emplace_back("$and", filters("Every one of these filters holds."));
  properties.emplace_back("$or", filters("At least one of these filters holds."));
  properties.emplace_back("$not", self);
  return Obj(
      {{"type", Str("object")},
       {"description", Str("Conditions on fields of `" + e.path +
                           "`, all of which must hold: a plain "
                           "value means $eq, an object holds operators. $and, $or and $not combine "
                           "filters.")},
       {"additionalProperties", "false"},
       {"properties", Obj(properties)}});
}

std::string OrderBySchema(const RestEndpoint& e) {
  Members properties;
  for (const Field& f : e.schema.fields)
    properties.emplace_back(f.name, SchemaRef("SortDirection"));
  return Obj({{"type", Str("object")},
              {"description", Str("Sort keys, most significant first. Without one, rows come in "
                                  "primary-key (keyless endpoints: insertion) order.")},
              {"additionalProperties", "false"},
              {"properties", Obj(properties)}});
}

// A page's size; /count has no default (it counts every match unless a page is asked for).
std::string LimitSchema(bool with_default = true) {
  Members fields = {
      {"type", Str("integer")}, {"minimum", "0"}, {"maximum", std::to_string(RestApi::kMaxLimit)}};
  if (with_default) fields.emplace_back("default", std::to_string(RestApi::kDefaultLimit));
  return Obj(fields);
}

std::string SkipSchema() {
  return Obj(
      {{"type", Str("integer")}, {"format", Str("int64")}, {"minimum", "0"}, {"default", "0"}});
}

std::string CursorSchema() {
  return Obj({{"type", Str("string")},
              {"description", Str("The X-Sluice-Cursor header of the previous page: continue "
                                  "after its last row.")}});
}

std::string QueryBodySchema(const EndpointNames& n) {
  return Obj({{"type", Str("object")},
              {"description", Str("An empty body is an empty query.")},
              {"additionalProperties", "false"},
              {"properties", Obj({{"$filter", SchemaRef(n.base + "Filter")},
                                  {"$order_by", SchemaRef(n.base + "OrderBy")},
                                  {"$limit", LimitSchema()},
                                  {"$skip", SkipSchema()},
                                  {"$after", CursorSchema()}})}});
}

std::string CountBodySchema(const EndpointNames& n) {
  return Obj({{"type", Str("object")},
              {"description", Str("The body of a query: counts the records that page would hold "
                                  "(every match without $skip, $limit or $after). An empty body "
                                  "counts every record.")},
              {"additionalProperties", "false"},
              {"properties", Obj({{"$filter", SchemaRef(n.base + "Filter")},
                                  {"$order_by", SchemaRef(n.base + "OrderBy")},
                                  {"$limit", LimitSchema(false)},
                                  {"$skip", SkipSchema()},
                                  {"$after", CursorSchema()}})}});
}

// The schemas that do not depend on the endpoints, as JSON text.
constexpr std::string_view kErrorSchema =
    R"({"type":"object","required":["error"],"properties":{"error":{"type":"object",)"
    R"("required":["code","message"],"properties":{)"
    R"("code":{"type":"string","description":"bad_request, not_found, method_not_allowed, )"
    R"(payload_too_large or internal."},)"
    R"("message":{"type":"string","description":"Names the offending part, e.g. )"
    R"(`$filter.total: expected a number ...`."}}}}})";
constexpr std::string_view kHealthSchema =
    R"({"type":"object","required":["status"],"properties":{"status":{"type":"string",)"
    R"("enum":["ok"]}}})";
constexpr std::string_view kCountResultSchema =
    R"({"type":"object","required":["count"],"properties":{"count":{"type":"integer",)"
    R"("format":"int64","minimum":0}}})";
constexpr std::string_view kExplainResultSchema =
    R"({"type":"object","required":["plan","estimated_rows"],"properties":{)"
    R"("plan":{"type":"object","description":"The chosen access path and steps; its shape may )"
    R"(change between versions."},)"
    R"("estimated_rows":{"type":"integer","format":"int64","minimum":0}}})";
constexpr std::string_view kSortDirectionSchema = R"({"type":"string","enum":["asc","desc"]})";

// The answer of GET /; `type` is one of the field type names.
std::string EndpointListSchema() {
  std::vector<std::string> type_names;
  for (FieldType t : kAllTypes) type_names.emplace_back(FieldTypeName(t));
  return std::string(
             R"({"type":"object","required":["app","endpoints"],"properties":{)"
             R"("app":{"type":"string"},"endpoints":{"type":"array","items":{"type":"object",)"
             R"("required":["name","path","table","primary_key","fields"],"properties":{)"
             R"("name":{"type":"string"},"path":{"type":"string"},"table":{"type":"string"},)"
             R"("primary_key":{"type":"array","items":{"type":"string"},"nullable":true,)"
             R"("description":"null for keyless endpoints."},)"
             R"("fields":{"type":"array","items":{"type":"object",)"
             R"("required":["name","type","nullable"],"properties":{)"
             R"("name":{"type":"string"},"nullable":{"type":"boolean"},)"
             R"("type":{"type":"string","enum":)") +
         StrArr(type_names) + "}}}}}}}}}";
}

void AppendSharedSchemas(const std::vector<RestEndpoint>& endpoints, Members* schemas) {
  schemas->emplace_back("Error", kErrorSchema);
  schemas->emplace_back("EndpointList", EndpointListSchema());
  schemas->emplace_back("Health", kHealthSchema);
  schemas->emplace_back("CountResult", kCountResultSchema);
  schemas->emplace_back("ExplainResult", kExplainResultSchema);
  schemas->emplace_back("SortDirection", kSortDirectionSchema);
  std::set<FieldType> used;
  for (const RestEndpoint& e : endpoints) {
    for (const Field& f : e.schema.fields) used.insert(f.type);
  }
  for (FieldType t : kAllTypes) {
    if (used.count(t)) schemas->emplace_back(OperatorsSchemaName(t), OperatorsSchema(t));
  }
}

// ---- Reusable parameters, headers and responses.

std::string QueryParameter(std::string_view name, std::string_view description,
                           const std::string& schema) {
  return Obj({{"name", Str(name)},
              {"in", Str("query")},
              {"description", Str(description)},
              {"schema", schema}});
}

std::string Parameters() {
  return Obj(
      {{"Limit", QueryParameter("limit", "At most this many records.", LimitSchema())},
       {"Skip", QueryParameter("skip", "Skip this many records first.", SkipSchema())},
       {"After", QueryParameter("after",
                                "The X-Sluice-Cursor header of the previous page: continue after "
                                "its last row.",
                                Obj({{"type", Str("string")}}))},
       {"OrderBy", QueryParameter("order_by",
                                  "Sort keys, most significant first: a JSON object like "
                                  "`{\"created_at\":\"desc\"}` or text like `created_at:desc,id` "
                                  "(ascending unless `:desc`).",
                                  Obj({{"type", Str("string")}}))},
       {"Snapshot",
        QueryParameter("snapshot", "Send the records matching now first, then their changes.",
                       Obj({{"type", Str("boolean")}}))}});
}

std::string FilterParameter(const EndpointNames& n) {
  return Obj({{"name", Str("filter")},
              {"in", Str("query")},
              {"description", Str("A filter object as (URL-encoded) JSON text.")},
              {"content", JsonContent(SchemaRef(n.base + "Filter"))}});
}

std::string ErrorResponse(std::string_view description, bool allow_header = false) {
  Members m{{"description", Str(description)}};
  if (allow_header) {
    m.emplace_back("headers", Obj({{"Allow", Obj({{"description", Str("The allowed methods.")},
                                                  {"schema", Obj({{"type", Str("string")}})}})}}));
  }
  m.emplace_back("content", JsonContent(SchemaRef("Error")));
  return Obj(m);
}

std::string Responses() {
  return Obj(
      {{"BadRequest", ErrorResponse("Malformed request: bad JSON, an unknown field, a value of "
                                    "the wrong type or a limit out of range (bad_request).")},
       {"NotFound", ErrorResponse("No such record or route (not_found).")},
       {"MethodNotAllowed", ErrorResponse("Method not allowed here (method_not_allowed).", true)},
       {"PayloadTooLarge",
        ErrorResponse("Body over 1 MiB or headers over 64 KiB (payload_too_large).")},
       {"InternalError", ErrorResponse("Internal error (internal).")}});
}

std::string Headers() {
  return Obj({{"Cursor", Obj({{"description", Str("Cursor for the next page, present when more "
                                                  "rows may follow: pass it as `after`.")},
                              {"schema", Obj({{"type", Str("string")}})}})}});
}

// ---- Operations.

struct Operation {
  std::string path;
  std::string method;  // lower case, as OpenAPI spells it
  std::string json;
};

struct OperationSpec {
  std::string tag, id, summary, description;
  std::vector<std::string> parameters;
  std::string request_body;  // empty: none
  Members responses;
};

std::string ToJson(const OperationSpec& s) {
  Members m{{"tags", StrArr({s.tag})}, {"operationId", Str(s.id)}, {"summary", Str(s.summary)}};
  if (!s.description.empty()) m.emplace_back("description", Str(s.description));
  if (!s.parameters.empty()) m.emplace_back("parameters", Arr(s.parameters));
  if (!s.request_body.empty()) m.emplace_back("requestBody", s.request_body);
  m.emplace_back("responses", Obj(s.responses));
  return Obj(m);
}

// References to the error responses, e.g. ErrorResponses({400, 405, 500}).
Members ErrorResponses(std::initializer_list<int> statuses) {
  static const std::map<int, std::string_view> kNames = {{400, "BadRequest"},
                                                         {404, "NotFound"},
                                                         {405, "MethodNotAllowed"},
                                                         {413, "PayloadTooLarge"},
                                                         {500, "InternalError"}};
  Members m;
  for (int status : statuses)
    m.emplace_back(std::to_string(status), Ref("responses", kNames.at(status)));
  return m;
}

Members With(Members ok, const Members& errors) {
  ok.insert(ok.end(), errors.begin(), errors.end());
  return ok;
}

std::string JsonResponse(std::string_view description, const std::string& schema) {
  return Obj({{"description", Str(description)}, {"content", JsonContent(schema)}});
}

std::string PageResponse(const EndpointNames& n) {
  return Obj({{"description", Str("The records of this page.")},
              {"headers", Obj({{"X-Sluice-Cursor", Ref("headers", "Cursor")}})},
              {"content", JsonContent(Obj({{"type", Str("array")},
                                           {"items", SchemaRef(n.base + "Record")}}))}});
}

std::string JsonBody(const std::string& schema) {
  return Obj({{"required", "false"}, {"content", JsonContent(schema)}});
}

std::vector<Operation> ServiceOperations() {
  const std::string tag = "Sluice";
  auto op = [&](std::string id, std::string summary, Members responses) {
    return ToJson({tag, std::move(id), std::move(summary), "", {}, "", std::move(responses)});
  };
  return {
      {"/", "get",
       op("list_endpoints", "The app's endpoints and their fields",
          With({{"200", JsonResponse("The endpoints.", SchemaRef("EndpointList"))}},
               ErrorResponses({405, 500})))},
      {"/health", "get",
       op("health", "200 while serving",
          With({{"200", JsonResponse("Serving.", SchemaRef("Health"))}},
               ErrorResponses({405, 500})))},
      {"/openapi.json", "get",
       op("openapi_document", "This OpenAPI document",
          With({{"200", JsonResponse("OpenAPI 3.0.3.", Obj({{"type", Str("object")}}))}},
               ErrorResponses({405})))},
      {"/docs", "get",
       op("swagger_ui", "Swagger UI for this document",
          With({{"200",
                 Obj({{"description", Str("An HTML page.")},
                      {"content",
                       Obj({{"text/html", Obj({{"schema", Obj({{"type", Str("string")}})}})}})}})}},
               ErrorResponses({405})))},
  };
}

std::string ListOperation(const RestEndpoint& e, const EndpointNames& n) {
  return ToJson({n.id,
                 n.id + "_list",
                 "List " + e.name + " records",
                 "Records matching `filter`, sorted by `order_by`, a page at a time: `limit` and "
                 "`skip`, or `after` with the X-Sluice-Cursor of the previous page.",
                 {FilterParameter(n), Ref("parameters", "OrderBy"), Ref("parameters", "Limit"),
                  Ref("parameters", "Skip"), Ref("parameters", "After")},
                 "",
                 With({{"200", PageResponse(n)}}, ErrorResponses({400, 405, 413, 500}))});
}

std::string GetByIdOperation(const RestEndpoint& e, const EndpointNames& n) {
  const Field& key = e.schema.fields[e.schema.primary_key[0]];
  std::string parameter = Obj({{"name", Str("id")},
                               {"in", Str("path")},
                               {"required", "true"},
                               {"description", Str("The primary key `" + key.name + "`.")},
                               {"schema", KeyParameterSchema(key.type)}});
  return ToJson({n.id,
                 n.id + "_get",
                 "Get one " + e.name + " record by its key",
                 "",
                 {parameter},
                 "",
                 With({{"200", JsonResponse("The record.", SchemaRef(n.base + "Record"))}},
                      ErrorResponses({400, 404, 405, 413, 500}))});
}

std::string QueryOperation(const RestEndpoint& e, const EndpointNames& n) {
  return ToJson({n.id,
                 n.id + "_query",
                 "Query " + e.name + " records",
                 "Like the list route, with the query in the body.",
                 {},
                 JsonBody(SchemaRef(n.base + "QueryBody")),
                 With({{"200", PageResponse(n)}}, ErrorResponses({400, 405, 413, 500}))});
}

std::string CountOperation(const RestEndpoint& e, const EndpointNames& n) {
  return ToJson({n.id,
                 n.id + "_count",
                 "Count " + e.name + " records matching a filter",
                 "",
                 {},
                 JsonBody(SchemaRef(n.base + "CountBody")),
                 With({{"200", JsonResponse("The count.", SchemaRef("CountResult"))}},
                      ErrorResponses({400, 405, 413, 500}))});
}

std::string ExplainOperation(const RestEndpoint& e, const EndpointNames& n) {
  return ToJson({n.id,
                 n.id + "_explain",
                 "Explain how a " + e.name + " query would run",
                 "Takes the body of the query route; runs nothing.",
                 {},
                 JsonBody(SchemaRef(n.base + "QueryBody")),
                 With({{"200", JsonResponse("The plan.", SchemaRef("ExplainResult"))}},
                      ErrorResponses({400, 405, 413, 500}))});
}

std::string LiveOperation(const RestEndpoint& e, const EndpointNames& n) {
  std::string stream =
      Obj({{"description", Str("A Server-Sent Events stream that stays open.")},
           {"content",
            Obj({{"text/event-stream", Obj({{"schema", Obj({{"type", Str("string")}})}})}})}});
  return ToJson({n.id,
                 n.id + "_live",
                 "Follow " + e.name + " records live",
                 "Server-Sent Events: the records matching `filter` (first, when `snapshot` is "
                 "true), then their changes as they commit. The route also accepts a WebSocket "
                 "upgrade carrying the same events.",
                 {FilterParameter(n), Ref("parameters", "Snapshot")},
                 "",
                 With({{"200", stream}}, ErrorResponses({400, 405, 413, 500}))});
}

// Whether the router hands `route` of endpoint `e` to another endpoint: it tries longer paths
// first, so "/a/live" belongs to an endpoint at "/a/live" rather than to the one at "/a".
bool Shadowed(const std::string& route, const RestEndpoint& e,
              const std::vector<RestEndpoint>& endpoints) {
  return std::any_of(endpoints.begin(), endpoints.end(), [&](const RestEndpoint& other) {
    return other.path.size() > e.path.size() &&
           (route == other.path || route.starts_with(other.path + "/"));
  });
}

std::vector<Operation> EndpointOperations(const RestEndpoint& e, const EndpointNames& n) {
  std::vector<Operation> ops = {{e.path, "get", ListOperation(e, n)}};
  if (e.schema.primary_key.size() == 1) {
    ops.push_back({e.path + "/{id}", "get", GetByIdOperation(e, n)});
  }
  ops.push_back({e.path + "/query", "post", QueryOperation(e, n)});
  ops.push_back({e.path + "/count", "post", CountOperation(e, n)});
  ops.push_back({e.path + "/explain", "post", ExplainOperation(e, n)});
  ops.push_back({e.path + "/live", "get", LiveOperation(e, n)});
  return ops;
}

// Operations grouped by path, paths in order of appearance.
std::string Paths(const std::vector<Operation>& ops) {
  std::vector<std::string> order;
  std::map<std::string, Members> by_path;
  for (const Operation& op : ops) {
    auto [it, inserted] = by_path.try_emplace(op.path);
    if (inserted) order.push_back(op.path);
    it->second.emplace_back(op.method, op.json);
  }
  Members paths;
  for (const std::string& path : order) paths.emplace_back(path, Obj(by_path[path]));
  return Obj(paths);
}

// ---- The document.

std::string Info(std::string_view app_name) {
  return Obj(
      {{"title", Str(std::string(app_name) + " REST API")},
       {"version", Str(SLUICE_VERSION)},
       {"description",
        Str("Live records of the app's endpoints, served by Sluice from its cache; every read "
            "sees whole committed source transactions. Values: 64-bit integers beyond ±2^53 and "
            "decimals come as strings, timestamps as RFC 3339 in UTC. Pages: `limit`/`skip`, or "
            "the `X-Sluice-Cursor` header of one page passed as `after` for the next. `HEAD` "
            "works wherever `GET` does. Errors: `{\"error\": {\"code\", \"message\"}}`.")}});
}

std::string Tags(const std::vector<RestEndpoint>& endpoints,
                 const std::vector<EndpointNames>& names) {
  std::vector<std::string> tags = {Obj(
      {{"name", Str("Sluice")}, {"description", Str("The service: endpoints, health, docs.")}})};
  for (size_t i = 0; i < endpoints.size(); ++i) {
    tags.push_back(Obj({{"name", Str(names[i].id)},
                        {"description", Str("`" + endpoints[i].path + "`: records of `" +
                                            endpoints[i].table + "`.")}}));
  }
  return Arr(tags);
}

std::string Components(const std::vector<RestEndpoint>& endpoints,
                       const std::vector<EndpointNames>& names) {
  Members schemas;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const RestEndpoint& e = endpoints[i];
    const EndpointNames& n = names[i];
    schemas.emplace_back(n.base + "Record", RecordSchema(e));
    schemas.emplace_back(n.base + "Filter", FilterSchema(e, n));
    schemas.emplace_back(n.base + "OrderBy", OrderBySchema(e));
    schemas.emplace_back(n.base + "QueryBody", QueryBodySchema(n));
    schemas.emplace_back(n.base + "CountBody", CountBodySchema(n));
  }
  AppendSharedSchemas(endpoints, &schemas);
  return Obj({{"schemas", Obj(schemas)},
              {"parameters", Parameters()},
              {"headers", Headers()},
              {"responses", Responses()}});
}

// POST /auth/token (docs/auth.md).
Operation MintTokenOperation() {
  const std::string body =
      Obj({{"type", Str("object")},
           {"required", StrArr({"access"})},
           {"properties",
            Obj({{"access", Obj({{"description", Str("\"all\" or {\"endpoints\": {...}}")}})},
                 {"ttl", Obj({{"type", Str("string")}, {"example", Str("15m")}})}})}});
  const std::string answer =
      Obj({{"type", Str("object")},
           {"properties", Obj({{"token", Obj({{"type", Str("string")}})},
                               {"expires_at", Obj({{"type", Str("integer")}})}})}});
  return {"/auth/token", "post",
          ToJson({"Sluice",
                  "mint_token",
                  "A narrower token, signed with the app's secret",
                  "Only an all-access token may mint; the new token never outlives it.",
                  {},
                  Obj({{"required", "true"}, {"content", JsonContent(body)}}),
                  With({{"200", JsonResponse("The token.", answer)}},
                       ErrorResponses({400, 404, 405, 500}))})};
}

}  // namespace

std::string BuildOpenApiDocument(std::string_view app_name,
                                 const std::vector<RestEndpoint>& endpoints, bool bearer_auth) {
  const std::vector<EndpointNames> names = AssignNames(endpoints);
  std::vector<Operation> ops = ServiceOperations();
  for (size_t i = 0; i < endpoints.size(); ++i) {
    for (Operation& op : EndpointOperations(endpoints[i], names[i])) {
      if (!Shadowed(op.path, endpoints[i], endpoints)) ops.push_back(std::move(op));
    }
  }
  if (!bearer_auth) {
    return Obj({{"openapi", Str("3.0.3")},
                {"info", Info(app_name)},
                {"tags", Tags(endpoints, names)},
                {"paths", Paths(ops)},
                {"components", Components(endpoints, names)}});
  }
  ops.push_back(MintTokenOperation());
  for (Operation& op : ops) {
    if (op.path == "/health") op.json.insert(op.json.size() - 1, ",\"security\":[]");  // open
  }
  std::string components = Components(endpoints, names);
  components.insert(
      components.size() - 1,
      ",\"securitySchemes\":" + Obj({{"bearerAuth", Obj({{"type", Str("http")},
                                                         {"scheme", Str("bearer")},
                                                         {"bearerFormat", Str("JWT")}})}}));
  return Obj({{"openapi", Str("3.0.3")},
              {"info", Info(app_name)},
              {"tags", Tags(endpoints, names)},
              {"security", Arr({Obj({{"bearerAuth", "[]"}})})},
              {"paths", Paths(ops)},
              {"components", components}});
}

}  // namespace sluice
