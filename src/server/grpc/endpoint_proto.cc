#include "server/grpc/endpoint_proto.h"

#include <cctype>
#include <set>

namespace sluice::grpc_api {
namespace {

namespace pb = google::protobuf;
using FieldProto = pb::FieldDescriptorProto;

// Field numbers of FileDescriptorProto, DescriptorProto and ServiceDescriptorProto, for
// SourceCodeInfo paths (descriptor.proto).
constexpr int kFileMessageType = 4;
constexpr int kFileEnumType = 5;
constexpr int kFileService = 6;
constexpr int kMessageField = 2;
constexpr int kServiceMethod = 2;

const std::string kPackagePrefix = "." + std::string(kEndpointsPackage) + ".";
constexpr const char* kTimestampFile = "google/protobuf/timestamp.proto";

struct ProtoType {
  FieldProto::Type type;
  std::string type_name;  // message types only
  const char* note;       // how the value is written, for the field's comment
};

ProtoType ProtoTypeFor(FieldType type) {
  switch (type) {
    case FieldType::kBoolean:
      return {FieldProto::TYPE_BOOL, "", ""};
    case FieldType::kInt:
      return {FieldProto::TYPE_INT64, "", ""};
    case FieldType::kUInt:
      return {FieldProto::TYPE_UINT64, "", ""};
    case FieldType::kFloat:
      return {FieldProto::TYPE_DOUBLE, "", ""};
    case FieldType::kDecimal:
      return {FieldProto::TYPE_STRING, "", "exact, as text with its scale, e.g. \"19.90\""};
    case FieldType::kString:
    case FieldType::kText:
      return {FieldProto::TYPE_STRING, "", ""};
    case FieldType::kBinary:
      return {FieldProto::TYPE_BYTES, "", ""};
    case FieldType::kDate:
      return {FieldProto::TYPE_STRING, "", "as \"YYYY-MM-DD\""};
    case FieldType::kTimestamp:
      return {FieldProto::TYPE_MESSAGE, ".google.protobuf.Timestamp", "UTC, microsecond precision"};
    case FieldType::kDuration:
      return {FieldProto::TYPE_INT64, "", "in microseconds"};
    case FieldType::kJson:
      return {FieldProto::TYPE_STRING, "", "JSON text"};
    case FieldType::kPoint:
      return {FieldProto::TYPE_MESSAGE, kPackagePrefix + "Point", ""};
  }
  return {FieldProto::TYPE_STRING, "", ""};
}

// "order_items" -> "OrderItems", "q1-results" -> "Q1Results"; never empty or digit-first.
std::string PascalCase(std::string_view name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out.push_back(upper ? char(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "E" + out;
  return out;
}

// A column name as a proto field name: [A-Za-z_][A-Za-z0-9_]*.
std::string FieldIdentifier(std::string_view name) {
  std::string out;
  for (char c : name) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "f_" + out;
  return out;
}

// protoc refuses fields whose JSON names (camel case) collide; comparing names without
// underscores and case is a little stricter than that and simple.
std::string CollisionKey(std::string_view name) {
  std::string key;
  for (char c : name) {
    if (c != '_') key.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  }
  return key;
}

// Attaches leading comments to elements (printed by PrintProtoFile).
class Comments {
 public:
  static constexpr size_t kWidth = 90;

  explicit Comments(pb::SourceCodeInfo* info) : info_(info) {}
  // `text` is wrapped to lines of at most kWidth characters.
  void Add(std::initializer_list<int> path, const std::string& text) {
    pb::SourceCodeInfo::Location* loc = info_->add_location();
    for (int p : path) loc->add_path(p);
    for (int i = 0; i < 3; ++i) loc->add_span(0);
    std::string wrapped, line;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      std::string word = text.substr(start, end - start);
      if (!line.empty() && line.size() + 1 + word.size() > kWidth) {
        wrapped += " " + line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
      start = end + 1;
    }
    wrapped += " " + line + "\n";
    loc->set_leading_comments(wrapped);
  }

 private:
  pb::SourceCodeInfo* info_;
};

pb::FieldDescriptorProto* AddField(pb::DescriptorProto* message, const std::string& name,
                                   int number, FieldProto::Type type,
                                   const std::string& type_name = "") {
  pb::FieldDescriptorProto* f = message->add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_label(FieldProto::LABEL_OPTIONAL);
  f->set_type(type);
  if (!type_name.empty()) f->set_type_name(type_name);
  return f;
}

void AddMethod(pb::ServiceDescriptorProto* service, const std::string& name,
               const std::string& input, const std::string& output, bool server_streaming) {
  pb::MethodDescriptorProto* m = service->add_method();
  m->set_name(name);
  m->set_input_type(kPackagePrefix + input);
  m->set_output_type(kPackagePrefix + output);
  if (server_streaming) m->set_server_streaming(true);
}

void AddSharedTypes(pb::FileDescriptorProto* file, Comments* comments) {
  auto add = [&](const std::string& name, const std::string& comment) {
    comments->Add({kFileMessageType, file->message_type_size()}, comment);
    pb::DescriptorProto* m = file->add_message_type();
    m->set_name(name);
    return m;
  };
  AddField(add("QueryRequest",
               "{\"$filter\": ..., \"$order_by\": ..., \"$limit\": n, \"$skip\": n, \"$after\": "
               "cursor}, as for REST's POST {path}/query; empty: the first page of all records."),
           "query_json", 1, FieldProto::TYPE_STRING);
  AddField(add("CountRequest", "A filter object, e.g. {\"total\": {\"$gte\": 10}}; empty: all."),
           "filter_json", 1, FieldProto::TYPE_STRING);
  AddField(add("CountResponse", "How many records the filter matches."), "count", 1,
           FieldProto::TYPE_UINT64);
  pb::DescriptorProto* subscribe =
      add("SubscribeRequest",
          "filter_json as in CountRequest. snapshot: first the records that match now "
          "(kind INSERT, snapshot = true), then one CHANGE_KIND_SNAPSHOT_COMPLETE event, then "
          "live changes.");
  AddField(subscribe, "filter_json", 1, FieldProto::TYPE_STRING);
  AddField(subscribe, "snapshot", 2, FieldProto::TYPE_BOOL);
  pb::DescriptorProto* point = add("Point", "A point column.");
  AddField(point, "x", 1, FieldProto::TYPE_DOUBLE);
  AddField(point, "y", 2, FieldProto::TYPE_DOUBLE);

  comments->Add({kFileEnumType, 0},
                "What a subscription event is. Seen through the subscription's filter, an "
                "update whose old record matched and new one does not is a DELETE, the "
                "reverse an INSERT.");
  pb::EnumDescriptorProto* kind = file->add_enum_type();
  kind->set_name("ChangeKind");
  int number = 0;
  for (const char* name : {"CHANGE_KIND_UNSPECIFIED", "CHANGE_KIND_INSERT", "CHANGE_KIND_UPDATE",
                           "CHANGE_KIND_DELETE", "CHANGE_KIND_SNAPSHOT_COMPLETE"}) {
    pb::EnumValueDescriptorProto* v = kind->add_value();
    v->set_name(name);
    v->set_number(number++);
  }
}

}  // namespace

std::string EndpointsProtoFileName(std::string_view app_name) {
  std::string name;
  for (char c : app_name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    name.push_back(ok ? c : '_');
  }
  if (name.empty()) name = "sluice";
  return name + ".proto";
}

EndpointsProto BuildEndpointsProto(std::string_view app_name,
                                   const std::vector<RestEndpoint>& endpoints) {
  EndpointsProto out;
  pb::FileDescriptorProto& file = out.file;
  file.set_name(EndpointsProtoFileName(app_name));
  file.set_package(std::string(kEndpointsPackage));
  file.set_syntax("proto3");
  Comments comments(file.mutable_source_code_info());
  AddSharedTypes(&file, &comments);

  bool uses_timestamp = false;
  std::set<std::string> used_names;
  for (const RestEndpoint& e : endpoints) {
    const Schema& schema = e.schema;
    EndpointProtoNames names;
    std::string base = PascalCase(e.name);
    for (int n = 2; used_names.count(base); ++n) base = PascalCase(e.name) + std::to_string(n);
    used_names.insert(base);
    names.service = base + "Service";
    names.record = base + "Record";
    names.query_response = base + "QueryResponse";
    names.event = base + "Event";

    // The record: one field per column, numbered in schema order.
    const int record_index = file.message_type_size();
    comments.Add({kFileMessageType, record_index},
                 "A record of endpoint '" + e.name + "' (REST " + e.path + ").");
    pb::DescriptorProto* record = file.add_message_type();
    record->set_name(names.record);
    std::set<std::string> used_keys;
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const Field& field = schema.fields[i];
      std::string name = FieldIdentifier(field.name);
      for (int n = 2; used_keys.count(CollisionKey(name)); ++n) {
        name = FieldIdentifier(field.name) + "_" + std::to_string(n);
      }
      used_keys.insert(CollisionKey(name));
      names.fields.push_back(name);
      ProtoType type = ProtoTypeFor(field.type);
      uses_timestamp |= field.type == FieldType::kTimestamp;
      AddField(record, name, int(i) + 1, type.type, type.type_name);
      std::string comment = (name == field.name ? "" : "column '" + field.name + "': ") +
                            std::string(FieldTypeName(field.type));
      if (*type.note) comment += ", " + std::string(type.note);
      if (field.nullable) comment += "; nullable";
      comments.Add({kFileMessageType, record_index, kMessageField, int(i)}, comment);
    }
    // Nullable scalars are proto3 `optional`: each sits in a synthetic oneof, declared after
    // any real ones, named like protoc names them (_field, prefixed with X on collision).
    for (int i = 0; i < record->field_size(); ++i) {
      pb::FieldDescriptorProto* f = record->mutable_field(i);
      if (!schema.fields[i].nullable || f->type() == FieldProto::TYPE_MESSAGE) continue;
      std::string oneof = "_" + f->name();
      auto taken = [&](const std::string& n) {
        for (const auto& other : record->field()) {
          if (other.name() == n) return true;
        }
        for (const auto& other : record->oneof_decl()) {
          if (other.name() == n) return true;
        }
        return false;
      };
      while (taken(oneof)) oneof = "X" + oneof;
      f->set_proto3_optional(true);
      f->set_oneof_index(record->oneof_decl_size());
      record->add_oneof_decl()->set_name(oneof);
    }

    comments.Add({kFileMessageType, file.message_type_size()},
                 "A page of records; next_cursor continues after it (QueryRequest's $after) "
                 "when more may follow, else it is empty.");
    pb::DescriptorProto* page = file.add_message_type();
    page->set_name(names.query_response);
    pb::FieldDescriptorProto* records =
        AddField(page, "records", 1, FieldProto::TYPE_MESSAGE, kPackagePrefix + names.record);
    records->set_label(FieldProto::LABEL_REPEATED);
    AddField(page, "next_cursor", 2, FieldProto::TYPE_STRING);

    comments.Add({kFileMessageType, file.message_type_size()},
                 "A change of a record of '" + e.name +
                     "'; epoch is the pipeline epoch that committed it (0 for snapshot "
                     "records).");
    pb::DescriptorProto* event = file.add_message_type();
    event->set_name(names.event);
    AddField(event, "kind", 1, FieldProto::TYPE_ENUM, kPackagePrefix + "ChangeKind");
    AddField(event, "epoch", 2, FieldProto::TYPE_UINT64);
    AddField(event, "old_record", 3, FieldProto::TYPE_MESSAGE, kPackagePrefix + names.record);
    AddField(event, "new_record", 4, FieldProto::TYPE_MESSAGE, kPackagePrefix + names.record);
    AddField(event, "snapshot", 5, FieldProto::TYPE_BOOL);

    if (schema.primary_key.size() == 1) {
      names.get_request = base + "GetRequest";
      const size_t key = schema.primary_key[0];
      comments.Add({kFileMessageType, file.message_type_size()},
                   "The primary key of the record to get.");
      pb::DescriptorProto* get = file.add_message_type();
      get->set_name(names.get_request);
      ProtoType type = ProtoTypeFor(schema.fields[key].type);
      AddField(get, names.fields[key], 1, type.type, type.type_name);
    }

    const int service_index = file.service_size();
    std::string key_text;
    for (size_t k : schema.primary_key) {
      key_text += (key_text.empty() ? "" : ", ") + schema.fields[k].name;
    }
    comments.Add({kFileService, service_index},
                 "Endpoint '" + e.name + "' (REST " + e.path + "), filled by table '" + e.table +
                     "'; " + (key_text.empty() ? "no key" : "key (" + key_text + ")") + ".");
    pb::ServiceDescriptorProto* service = file.add_service();
    service->set_name(names.service);
    comments.Add({kFileService, service_index, kServiceMethod, service->method_size()},
                 "A page of records matching a query (NOT_FOUND never; INVALID_ARGUMENT names "
                 "the JSON path).");
    AddMethod(service, "Query", "QueryRequest", names.query_response, false);
    comments.Add({kFileService, service_index, kServiceMethod, service->method_size()},
                 "How many records match a filter.");
    AddMethod(service, "Count", "CountRequest", "CountResponse", false);
    if (!names.get_request.empty()) {
      comments.Add({kFileService, service_index, kServiceMethod, service->method_size()},
                   "The record with this key; NOT_FOUND when there is none.");
      AddMethod(service, "Get", names.get_request, names.record, false);
    }
    comments.Add({kFileService, service_index, kServiceMethod, service->method_size()},
                 "Live changes of the records matching a filter (see SubscribeRequest).");
    AddMethod(service, "Subscribe", "SubscribeRequest", names.event, true);
    out.endpoints.push_back(std::move(names));
  }
  if (uses_timestamp) file.add_dependency(kTimestampFile);
  return out;
}

std::string PrintProtoFile(const pb::FileDescriptor& file) {
  pb::DebugStringOptions options;
  options.include_comments = true;
  std::string out =
      "// Generated by Sluice from the app's endpoints at start-up; do not edit. Served over gRPC\n"
      "// next to sluice.v1.Sluice (docs/grpc.md). Types: int -> int64, uint -> uint64, float ->\n"
      "// double, decimal -> string (\"19.90\"), date -> string (\"2026-11-23\"), timestamp ->\n"
      "// google.protobuf.Timestamp (UTC), duration -> int64 microseconds, json -> string (JSON\n"
      "// text), binary -> bytes, point -> Point; nullable columns are proto3 `optional`.\n";
  out += file.DebugStringWithOptions(options);
  return out;
}

}  // namespace sluice::grpc_api
