#include "server/http/openapi.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <set>

#include "cache/cache_store.h"
#include "cache/query_parser.h"
#include "common/temp_dir.h"
#include "server/http/rest_api.h"
#include "types/decimal.h"
#include "types/value_text.h"

namespace sluice {
namespace {

using simdjson::dom::element;
using Lookup = simdjson::simdjson_result<element>;

constexpr FieldType kAllTypes[] = {
    FieldType::kBoolean, FieldType::kInt,       FieldType::kUInt,     FieldType::kFloat,
    FieldType::kDecimal, FieldType::kString,    FieldType::kText,     FieldType::kBinary,
    FieldType::kDate,    FieldType::kTimestamp, FieldType::kDuration, FieldType::kJson,
    FieldType::kPoint,
};

// Two fields per type: "<type>_col" (NOT NULL) and "<type>_null".
Schema AllTypesSchema(std::vector<std::string> key_columns) {
  Schema s;
  for (FieldType t : kAllTypes) {
    s.fields.push_back({std::string(FieldTypeName(t)) + "_col", t, false});
    s.fields.push_back({std::string(FieldTypeName(t)) + "_null", t, true});
  }
  s.primary_key = s.ResolveColumns(key_columns).value();
  return s;
}

std::vector<RestEndpoint> Endpoints() {
  return {
      {"orders", "/orders", "orders", AllTypesSchema({"int_col"}), 0},
      {"order log", "/ops/log", "log", AllTypesSchema({}), 1},
      {"pairs", "/pairs", "pairs", AllTypesSchema({"int_col", "string_col"}), 2},
      {"users", "/users", "users",
       Schema{{{"email", FieldType::kString, false}, {"name", FieldType::kText, true}}, {0}}, 3},
  };
}

// Everything the generator has to get right at once: every key type, names that collide
// once normalised, an endpoint without fields, one nested under another's path, odd field
// names.
std::vector<RestEndpoint> RichEndpoints() {
  std::vector<RestEndpoint> endpoints = Endpoints();
  uint32_t table = 10;
  for (FieldType t : kAllTypes) {
    std::string name = "by_" + std::string(FieldTypeName(t));
    endpoints.push_back({name, "/keys/" + name, name,
                         AllTypesSchema({std::string(FieldTypeName(t)) + "_col"}), table++});
  }
  endpoints.push_back({"orders", "/v2/orders", "orders", AllTypesSchema({"int_col"}), table++});
  endpoints.push_back({"Order Items", "/order-items", "items", AllTypesSchema({}), table++});
  endpoints.push_back({"order_items", "/order_items", "items", AllTypesSchema({}), table++});
  endpoints.push_back({"", "/nameless", "t", Schema{}, table++});
  endpoints.push_back({"users live", "/users/live", "users_live", AllTypesSchema({}), table++});
  endpoints.push_back({"archive", "/users/archive", "users_archive",
                       Schema{{{"with space", FieldType::kInt, false},
                               {"ünïcode \"quoted\"", FieldType::kString, true}},
                              {0}},
                       table++});
  return endpoints;
}

std::string Text(Lookup e) {
  std::string_view s;
  return e.get(s) ? "<missing>" : std::string(s);
}

Lookup Dig(Lookup e, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) e = e[k];
  return e;
}

bool Has(Lookup e) { return !e.error(); }

std::vector<std::string> Keys(Lookup e) {
  std::vector<std::string> keys;
  simdjson::dom::object object;
  if (e.get(object)) return keys;
  for (auto [key, value] : object) keys.emplace_back(key);
  return keys;
}

// Every object in the document, depth first, with its pointer-ish path for messages.
void ForEachObject(element e, const std::string& path,
                   const std::function<void(simdjson::dom::object, const std::string&)>& f) {
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (!e.get(object)) {
    f(object, path);
    for (auto [key, value] : object) ForEachObject(value, path + "/" + std::string(key), f);
  } else if (!e.get(array)) {
    size_t i = 0;
    for (element item : array) ForEachObject(item, path + "/" + std::to_string(i++), f);
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = BuildOpenApiDocument("shop", Endpoints());
    ASSERT_FALSE(parser_.parse(text_).get(doc_)) << text_;
  }
  Lookup At(std::initializer_list<std::string_view> keys) const {
    return Dig(Lookup(element(doc_)), keys);
  }
  Lookup Property(std::string_view schema, std::string_view field) const {
    return At({"components", "schemas", schema, "properties", field});
  }

  std::string text_;
  simdjson::dom::parser parser_;
  element doc_;
};

TEST_F(OpenApiTest, IsOpenApi303AboutTheApp) {
  EXPECT_EQ(Text(At({"openapi"})), "3.0.3");
  EXPECT_EQ(Text(At({"info", "title"})), "shop REST API");
  EXPECT_TRUE(Has(At({"info", "version"})));
}

TEST_F(OpenApiTest, RecordSchemaHasEveryFieldInItsJsonForm) {
  const Lookup record = At({"components", "schemas", "OrdersRecord"});
  EXPECT_EQ(Text(record["type"]), "object");
  EXPECT_EQ(Keys(record["properties"]).size(), 26u);
  simdjson::dom::array required;
  ASSERT_FALSE(record["required"].get(required));
  EXPECT_EQ(required.size(), 26u);  // every field is in every record, null or not
  EXPECT_FALSE(record["additionalProperties"].get_bool().value());

  auto type = [&](std::string_view field) { return Text(Property("OrdersRecord", field)["type"]); };
  auto format = [&](std::string_view field) {
    return Text(Property("OrdersRecord", field)["format"]);
  };
  EXPECT_EQ(type("boolean_col"), "boolean");
  EXPECT_EQ(type("string_col"), "string");
  EXPECT_EQ(type("text_col"), "string");
  EXPECT_EQ(type("decimal_col"), "string");
  EXPECT_EQ(type("duration_col"), "string");
  EXPECT_EQ(type("binary_col"), "string");
  EXPECT_EQ(format("binary_col"), "byte");
  EXPECT_EQ(type("date_col"), "string");
  EXPECT_EQ(format("date_col"), "date");
  EXPECT_EQ(type("timestamp_col"), "string");
  EXPECT_EQ(format("timestamp_col"), "date-time");
  // json: any value, so no type at all.
  EXPECT_EQ(Keys(Property("OrdersRecord", "json_col")), std::vector<std::string>{"description"});
  // point: {x, y} of doubles.
  EXPECT_EQ(type("point_col"), "object");
  EXPECT_TRUE(Has(Property("OrdersRecord", "point_col")["properties"]["x"]["oneOf"]));
  // int/uint: numbers, strings beyond 2^53. float: numbers, NaN/Infinity as strings.
  const Lookup int_col = Property("OrdersRecord", "int_col")["oneOf"];
  EXPECT_EQ(Text(int_col.at(0)["type"]), "integer");
  EXPECT_EQ(Text(int_col.at(0)["format"]), "int64");
  EXPECT_EQ(Text(int_col.at(1)["type"]), "string");
  EXPECT_EQ(Text(Property("OrdersRecord", "uint_col")["oneOf"].at(0)["type"]), "integer");
  EXPECT_EQ(Text(Property("OrdersRecord", "uint_col")["oneOf"].at(1)["type"]), "string");
  const Lookup float_col = Property("OrdersRecord", "float_col")["oneOf"];
  EXPECT_EQ(Text(float_col.at(0)["type"]), "number");
  EXPECT_EQ(simdjson::minify(float_col.at(1)["enum"]), R"(["NaN","Infinity","-Infinity"])");
}

TEST_F(OpenApiTest, NullableFieldsAdmitNull) {
  for (FieldType t : kAllTypes) {
    if (t == FieldType::kJson) continue;  // any value includes null
    std::string name(FieldTypeName(t));
    const Lookup nullable = Property("OrdersRecord", name + "_null");
    const Lookup not_null = Property("OrdersRecord", name + "_col");
    // With a oneOf, `nullable` goes into the first alternative (the one with a type).
    const Lookup where = Has(nullable["oneOf"]) ? nullable["oneOf"].at(0) : nullable;
    EXPECT_TRUE(where["nullable"].get_bool().value_unsafe()) << name;
    EXPECT_FALSE(Has(not_null["nullable"])) << name;
    EXPECT_FALSE(Has(not_null["oneOf"].at(0)["nullable"])) << name;
  }
}

TEST_F(OpenApiTest, GetByIdOnlyForSingleColumnKeys) {
  const Lookup by_id = At({"paths", "/orders/{id}", "get"});
  ASSERT_TRUE(Has(by_id));
  EXPECT_EQ(Text(by_id["operationId"]), "orders_get");
  EXPECT_EQ(Text(by_id["parameters"].at(0)["in"]), "path");
  EXPECT_EQ(Text(by_id["parameters"].at(0)["schema"]["type"]), "integer");  // like int_col
  EXPECT_EQ(Text(by_id["responses"]["404"]["$ref"]), "#/components/responses/NotFound");
  EXPECT_EQ(Text(At({"paths", "/users/{id}", "get", "parameters"}).at(0)["schema"]["type"]),
            "string");
  EXPECT_FALSE(Has(At({"paths", "/ops/log/{id}"})));  // keyless
  EXPECT_FALSE(Has(At({"paths", "/pairs/{id}"})));    // two key columns
}

TEST_F(OpenApiTest, EveryRouteIsDescribed) {
  for (std::string_view path : {"/", "/health", "/openapi.json", "/docs"}) {
    EXPECT_TRUE(Has(At({"paths", path, "get"}))) << path;
  }
  EXPECT_TRUE(Has(At({"paths", "/docs", "get", "responses", "200", "content", "text/html"})));
  for (const RestEndpoint& e : Endpoints()) {
    const std::string& p = e.path;
    std::string list_params = simdjson::to_string(At({"paths", p, "get", "parameters"}));
    for (std::string_view name : {"\"filter\"", "parameters/OrderBy", "parameters/Limit",
                                  "parameters/Skip", "parameters/After"}) {
      EXPECT_NE(list_params.find(name), std::string::npos) << p << " " << name;
    }
    for (std::string_view route : {"/query", "/count", "/explain"}) {
      EXPECT_TRUE(Has(At({"paths", p + std::string(route), "post", "requestBody", "content",
                          "application/json", "schema"})))
          << p << route;
    }
    // Pages carry the cursor for the next one.
    EXPECT_TRUE(Has(At({"paths", p, "get", "responses", "200", "headers", "X-Sluice-Cursor"})));
    EXPECT_TRUE(
        Has(At({"paths", p + "/query", "post", "responses", "200", "headers", "X-Sluice-Cursor"})));
    EXPECT_TRUE(
        Has(At({"paths", p + "/live", "get", "responses", "200", "content", "text/event-stream"})))
        << p;
    std::string live_params = simdjson::to_string(At({"paths", p + "/live", "get", "parameters"}));
    EXPECT_NE(live_params.find("\"filter\""), std::string::npos);
    EXPECT_NE(live_params.find("parameters/Snapshot"), std::string::npos);
  }
  EXPECT_EQ(Text(At({"paths", "/orders/count", "post", "responses", "200", "content",
                     "application/json", "schema", "$ref"})),
            "#/components/schemas/CountResult");
  EXPECT_EQ(Text(At({"components", "schemas", "ExplainResult", "required"}).at(1)),
            "estimated_rows");
}

TEST(OpenApiRoutesTest, ARouteOfANestedEndpointIsDescribedOnce) {
  // The router tries longer paths first: GET /a/live lists /a/live, it does not follow /a.
  Schema schema{{{"id", FieldType::kInt, false}}, {0}};
  std::string text = BuildOpenApiDocument(
      "nested", {{"a", "/a", "a", schema, 0}, {"a live", "/a/live", "b", schema, 1}});
  simdjson::dom::parser parser;
  element doc;
  ASSERT_FALSE(parser.parse(text).get(doc));
  EXPECT_EQ(Text(Dig(doc["paths"], {"/a/live", "get", "operationId"})), "a_live_list");
  EXPECT_EQ(Text(Dig(doc["paths"], {"/a/query", "post", "operationId"})), "a_query");
  EXPECT_EQ(Text(Dig(doc["paths"], {"/a/live/live", "get", "operationId"})), "a_live_live");
  EXPECT_EQ(text.find("\"operationId\":\"a_live\""), std::string::npos);
}

TEST_F(OpenApiTest, ErrorsHaveTheContractShape) {
  for (std::string_view status : {"400", "405", "413", "500"}) {
    EXPECT_TRUE(Has(At({"paths", "/orders/query", "post", "responses", status}))) << status;
  }
  EXPECT_EQ(Text(At({"components", "responses", "BadRequest", "content", "application/json",
                     "schema", "$ref"})),
            "#/components/schemas/Error");
  EXPECT_TRUE(Has(At({"components", "responses", "MethodNotAllowed", "headers", "Allow"})));
  const Lookup error = At({"components", "schemas", "Error", "properties", "error"});
  EXPECT_EQ(simdjson::minify(error["required"]), R"(["code","message"])");
}

TEST_F(OpenApiTest, FilterSchemaNamesFieldsOperatorsAndCombinators) {
  const Lookup filter = At({"components", "schemas", "OrdersFilter"});
  EXPECT_FALSE(filter["additionalProperties"].get_bool().value());
  std::vector<std::string> keys = Keys(filter["properties"]);
  EXPECT_EQ(keys.size(), 26u + 3);
  for (std::string_view combinator : {"$and", "$or", "$not"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), combinator), keys.end()) << combinator;
  }
  // A plain value (=$eq) or an operator object.
  const Lookup any_of = filter["properties"]["int_col"]["anyOf"];
  EXPECT_EQ(Text(any_of.at(1)["$ref"]), "#/components/schemas/IntOperators");
  std::vector<std::string> int_ops =
      Keys(At({"components", "schemas", "IntOperators", "properties"}));
  EXPECT_EQ(int_ops,
            (std::vector<std::string>{"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin"}));
  std::vector<std::string> text_ops =
      Keys(At({"components", "schemas", "TextOperators", "properties"}));
  EXPECT_NE(std::find(text_ops.begin(), text_ops.end(), "$prefix"), text_ops.end());
  EXPECT_NE(std::find(text_ops.begin(), text_ops.end(), "$contains"), text_ops.end());
  EXPECT_NE(std::find(text_ops.begin(), text_ops.end(), "$matches_any"), text_ops.end());
  // The query body refers to it and bounds the limit.
  const Lookup body = At({"components", "schemas", "OrdersQueryBody", "properties"});
  EXPECT_EQ(Text(body["$filter"]["$ref"]), "#/components/schemas/OrdersFilter");
  EXPECT_EQ(body["$limit"]["maximum"].get_int64().value(), 10000);
  EXPECT_EQ(body["$limit"]["default"].get_int64().value(), 50);
  // /count takes a query's body; its limit has no default (it counts every match).
  const Lookup count = At({"components", "schemas", "OrdersCountBody", "properties"});
  std::vector<std::string> count_keys = Keys(count);
  std::sort(count_keys.begin(), count_keys.end());
  EXPECT_EQ(count_keys,
            (std::vector<std::string>{"$after", "$filter", "$limit", "$order_by", "$skip"}));
  EXPECT_FALSE(Has(count["$limit"]["default"])) << "count's $limit has no default";
}

// Runs over the rich set of endpoints: checks that hold for any document.
class OpenApiInvariantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = BuildOpenApiDocument("rich", RichEndpoints());
    ASSERT_FALSE(parser_.parse(text_).get(doc_)) << text_;
  }
  std::string text_;
  simdjson::dom::parser parser_;
  element doc_;
};

TEST_F(OpenApiInvariantsTest, OperationIdsAreUniqueAndStable) {
  std::set<std::string> ids;
  size_t operations = 0;
  ForEachObject(doc_["paths"].value(), "", [&](simdjson::dom::object o, const std::string& path) {
    std::string_view id;
    if (o["operationId"].get(id)) return;
    ++operations;
    EXPECT_TRUE(ids.insert(std::string(id)).second) << "duplicate " << id << " at " << path;
  });
  EXPECT_GT(operations, 100u);
  for (std::string_view id : {"orders_list", "orders_get", "orders_query", "orders_count",
                              "orders_explain", "orders_live", "order_log_list", "orders_2_list",
                              "order_items_list", "order_items_2_list", "endpoint_list"}) {
    EXPECT_TRUE(ids.count(std::string(id))) << id;
  }
  // Same input, same document.
  EXPECT_EQ(BuildOpenApiDocument("rich", RichEndpoints()), text_);
}

TEST_F(OpenApiInvariantsTest, NoObjectHasAKeyTwice) {
  ForEachObject(doc_, "", [](simdjson::dom::object o, const std::string& path) {
    std::set<std::string_view> keys;
    for (auto [key, value] : o) EXPECT_TRUE(keys.insert(key).second) << path << "/" << key;
  });
}

TEST_F(OpenApiInvariantsTest, EveryRefResolves) {
  size_t refs = 0;
  ForEachObject(doc_, "", [&](simdjson::dom::object o, const std::string& path) {
    std::string_view ref;
    if (o["$ref"].get(ref)) return;
    ++refs;
    ASSERT_TRUE(ref.starts_with("#")) << ref;
    EXPECT_FALSE(doc_.at_pointer(ref.substr(1)).error()) << ref << " at " << path;
  });
  EXPECT_GT(refs, 100u);
}

// ---- The document against an OpenAPI validator from npm (tests/openapi/validate.mjs).

struct ValidatorRun {
  int exit_code;
  std::string output;
};

// `instances`: {"<schema name>": [values]} that must match those component schemas, or empty.
ValidatorRun Validate(const std::string& document, const std::string& instances = "") {
  TempDir dir("openapi");
  const std::string file = dir.str() + "/openapi.json";
  std::ofstream(file) << document;
  std::string command =
      std::string("'") + SLUICE_NODE + "' '" SLUICE_OPENAPI_VALIDATOR "' '" + file + "'";
  if (!instances.empty()) {
    std::ofstream(dir.str() + "/instances.json") << instances;
    command += " --instances '" + dir.str() + "/instances.json'";
  }
  ValidatorRun run{-1, ""};
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return run;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    run.output.append(buffer, n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(OpenApiValidatorTest, RichDocumentIsValid) {
  ValidatorRun run = Validate(BuildOpenApiDocument("rich", RichEndpoints()));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("valid OpenAPI 3.0.3"), std::string::npos) << run.output;
}

// Keeps the test above honest: the harness must see a validator fail.
TEST(OpenApiValidatorTest, BrokenDocumentIsRejected) {
  std::string document = BuildOpenApiDocument("rich", RichEndpoints());
  const std::string good = R"("type":"boolean")";
  size_t at = document.find(good);
  ASSERT_NE(at, std::string::npos);
  document.replace(at, good.size(), R"("type":"bool")");
  ValidatorRun run = Validate(document);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("OpenAPI validation failed"), std::string::npos) << run.output;
}

// Records of AllTypesSchema as the REST encoders write them: edge values in variants 0 and 1,
// and NULL in every nullable field in variant 2.
std::string EncodedRecord(const Schema& schema, int variant) {
  const double inf = std::numeric_limits<double>::infinity();
  auto sample = [&](FieldType t) -> Value {
    auto text = [&](const char* a, const char* b) {
      return ParseValueText(t, variant == 0 ? a : b).value();
    };
    switch (t) {
      case FieldType::kBoolean:
        return Value(variant == 0);
      case FieldType::kInt:
        return Value(variant == 0 ? int64_t{9007199254740993} : int64_t{-5});
      case FieldType::kUInt:
        return Value(variant == 0 ? UINT64_MAX : uint64_t{7});
      case FieldType::kFloat:
        return Value(variant == 0 ? std::nan("") : -inf);
      case FieldType::kDecimal:
        return text("19.90", "-1");
      case FieldType::kString:
        return Value(variant == 0 ? "a\"b" : "");
      case FieldType::kText:
        return Value(variant == 0 ? "hello world" : "x");
      case FieldType::kBinary:
        return Value(variant == 0 ? std::string("\0\1\xff", 3) : "");
      case FieldType::kDate:
        return text("2026-11-23", "1969-12-31");
      case FieldType::kTimestamp:
        return text("2026-11-23T10:15:30.5Z", "1900-01-01T00:00:00Z");
      case FieldType::kDuration:
        return text("PT1H30M0.5S", "-PT1S");
      case FieldType::kJson:
        return Value(variant == 0 ? R"({"a":[1,null]})" : "null");
      case FieldType::kPoint:
        return Value(variant == 0 ? Point{1.5, inf} : Point{0, -2});
    }
    return Value::Null();
  };
  std::string out = "{";
  for (const Field& f : schema.fields) {
    if (out.size() > 1) out += ',';
    AppendJsonString(f.name, &out);
    out += ':';
    AppendJsonValue(f.type, variant == 2 && f.nullable ? Value::Null() : sample(f.type), &out);
  }
  return out + "}";
}

// What the server really sends, and what it really accepts, matches the document's schemas.
TEST(OpenApiValidatorTest, ServedAndAcceptedJsonMatchesTheSchemas) {
  const std::vector<RestEndpoint> endpoints = Endpoints();
  const Schema& schema = endpoints[0].schema;  // OrdersRecord
  std::string records = "[" + EncodedRecord(schema, 0) + "," + EncodedRecord(schema, 1) + "," +
                        EncodedRecord(schema, 2) + "]";

  const std::vector<std::string> filters = {
      R"({"int_col": 5, "string_null": "x"})",
      R"({"int_col": {"$in": [1, "2"]}, "decimal_col": {"$gte": 1.5, "$lt": "19.90"}})",
      R"({"timestamp_col": {"$gte": "2026-01-01T00:00:00Z"}, "point_col": {"x": 1, "y": 2}})",
      R"({"$or": [{"string_col": {"$prefix": "a"}}, {"$not": {"text_col": {"$contains": "a b"}}}],
          "text_null": {"$matches_any": "x y"}, "json_col": {"a": 1}})",
  };
  const std::vector<std::string> bodies = {
      "{}",
      R"({"$filter": {"int_col": 1}, "$order_by": {"timestamp_col": "desc", "int_col": "asc"},
          "$limit": 10000, "$skip": 3})",
  };
  std::string filter_list, body_list;
  for (const std::string& f : filters) {
    EXPECT_TRUE(ParseFilterJson(schema, f).ok()) << f;
    filter_list += (filter_list.empty() ? "" : ",") + f;
  }
  for (const std::string& b : bodies) {
    EXPECT_TRUE(ParseQueryJson(schema, b, QueryBodyKind::kQuery).ok()) << b;
    body_list += (body_list.empty() ? "" : ",") + b;
  }

  TempDir dir("openapi_store");
  auto store = CacheStore::Open(dir.str());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RestApi api("shop", **store, endpoints);
  const std::string index = api.Handle({"GET", "/", ""}).body;
  const std::string health = api.Handle({"GET", "/health", ""}).body;
  const std::string error = api.Handle({"GET", "/nowhere", ""}).body;

  std::string instances = R"({"OrdersRecord":)" + records + R"(,"OrdersFilter":[)" + filter_list +
                          R"(],"OrdersQueryBody":[)" + body_list + R"(],"EndpointList":[)" + index +
                          R"(],"Health":[)" + health + R"(],"Error":[)" + error + "]}";
  ValidatorRun run = Validate(BuildOpenApiDocument("shop", endpoints), instances);
  EXPECT_EQ(run.exit_code, 0) << run.output << "\n" << instances;
  EXPECT_NE(run.output.find("12 instances"), std::string::npos) << run.output;
}

TEST(OpenApiValidatorTest, MismatchedInstanceIsRejected) {
  std::string record = EncodedRecord(Endpoints()[0].schema, 0);
  record.insert(1, R"("no_such_field":1,)");
  ValidatorRun run =
      Validate(BuildOpenApiDocument("shop", Endpoints()), R"({"OrdersRecord":[)" + record + "]}");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("does not match OrdersRecord"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace sluice
