#include "server/grpc/typed_service.h"

#include "cache/query.h"
#include "cache/query_parser.h"
#include "server/grpc/api_context.h"
#include "server/grpc/call_auth.h"
#include "server/grpc/generic_call.h"
#include "server/grpc/record_wire.h"
#include "types/row_codec.h"
#include "types/value_text.h"

namespace sluice::grpc_api {
namespace {

namespace pb = google::protobuf;

Result<std::unique_ptr<pb::Message>> ParseRequest(const pb::Message* prototype,
                                                  const std::string& bytes) {
  std::unique_ptr<pb::Message> message(prototype->New());
  if (!message->ParseFromString(bytes)) {
    return InvalidArgument("the request is not a valid " + prototype->GetDescriptor()->full_name());
  }
  return message;
}

std::string StringField(const pb::Message& m, const char* name) {
  return m.GetReflection()->GetString(m, m.GetDescriptor()->FindFieldByName(name));
}

bool BoolField(const pb::Message& m, const char* name) {
  return m.GetReflection()->GetBool(m, m.GetDescriptor()->FindFieldByName(name));
}

// <Endpoint>QueryResponse {repeated <Endpoint>Record records = 1; string next_cursor = 2;}
Result<std::string> Query(const ApiContext& api, const AuthorizedEndpoint& e,
                          const pb::Message& request) {
  const Schema& schema = e.endpoint().schema;
  ASSIGN_OR_RETURN(QuerySpec spec, ParseQueryJson(schema, StringField(request, "query_json"),
                                                  QueryBodyKind::kQuery));
  RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, e.endpoint(), &spec));
  const std::vector<bool>* shown = e.shown_columns();
  ASSIGN_OR_RETURN(ReadView view, api.store->BeginRead());
  std::string out, record;
  Status row_status;
  std::optional<std::string> next_cursor;
  RETURN_IF_ERROR(RunQuery(
      view, e.endpoint().cache_table, spec,
      [&](std::string_view row) {
        record.clear();
        row_status = AppendRecordWire(schema, row, &record, shown);
        AppendBytesField(1, record, &out);
        return row_status.ok();
      },
      &next_cursor));
  RETURN_IF_ERROR(row_status);
  if (next_cursor) AppendBytesField(2, *next_cursor, &out);
  return out;
}

// CountResponse {uint64 count = 1;}
Result<std::string> Count(const ApiContext& api, const AuthorizedEndpoint& e,
                          const pb::Message& request) {
  ASSIGN_OR_RETURN(FilterNode filter,
                   ParseOptionalFilter(e.endpoint().schema, StringField(request, "filter_json")));
  RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, e.endpoint(), &filter));
  ASSIGN_OR_RETURN(ReadView view, api.store->BeginRead());
  ASSIGN_OR_RETURN(uint64_t count, CountQuery(view, e.endpoint().cache_table, filter));
  std::string out;
  AppendVarintField(1, count, &out);
  return out;
}

// <Endpoint>GetRequest {<key> = 1;} -> <Endpoint>Record. As REST's GET {path}/{id}: a row
// outside the caller's filter does not exist for it, and a hidden key cannot be fetched by.
Result<std::string> Get(const ApiContext& api, const AuthorizedEndpoint& e,
                        const pb::Message& request) {
  const RestEndpoint& endpoint = e.endpoint();
  const Schema& schema = endpoint.schema;
  const size_t key_column = schema.primary_key[0];
  const Field& key = schema.fields[key_column];
  if (!e.access->Allows(key_column)) {
    return PermissionDenied("field '" + key.name + "' of endpoint " + endpoint.name +
                            " is not accessible, so rows cannot be fetched by it");
  }
  const pb::FieldDescriptor* field = request.GetDescriptor()->field(0);
  ASSIGN_OR_RETURN(Value value, ValueFromMessageField(request, field, key.type));
  if (value.is_null()) return InvalidArgument(field->name() + ": the key is required");
  ASSIGN_OR_RETURN(ReadView view, api.store->BeginRead());
  ASSIGN_OR_RETURN(std::optional<std::string_view> row,
                   GetByKey(view, endpoint.cache_table, {value}));
  auto not_found = [&] {  // worded as REST's GET {path}/{id}
    std::string text;
    AppendJsonValue(key.type, value, &text);
    return NotFound("no " + endpoint.name + " record with " + key.name + " = " + text);
  };
  if (!row) return not_found();
  if (e.access->filter.op != FilterNode::Op::kTrue) {
    ASSIGN_OR_RETURN(Record record, DecodeRow(schema, *row));
    if (!FilterMatches(e.access->filter, schema, record)) return not_found();
  }
  std::string out;
  RETURN_IF_ERROR(AppendRecordWire(schema, *row, &out, e.shown_columns()));
  return out;
}

// <Endpoint>Event {ChangeKind kind = 1; uint64 epoch = 2; <Endpoint>Record old_record = 3;
// <Endpoint>Record new_record = 4; bool snapshot = 5;}
Result<std::string> RenderEvent(const Schema& schema, const std::vector<bool>* shown,
                                const StreamEvent& event) {
  std::string out, record;
  AppendVarintField(1, uint64_t(event.kind), &out);
  if (event.epoch != 0) AppendVarintField(2, event.epoch, &out);
  for (auto [number, row] : {std::pair{3, event.old_row}, std::pair{4, event.new_row}}) {
    if (row.empty()) continue;
    record.clear();
    RETURN_IF_ERROR(AppendRecordWire(schema, row, &record, shown));
    AppendBytesField(number, record, &out);
  }
  if (event.snapshot) AppendVarintField(5, 1, &out);
  return out;
}

Result<std::unique_ptr<ChangeStream>> Subscribe(const ApiContext& api, const AuthorizedEndpoint& e,
                                                std::shared_ptr<const Caller> caller,
                                                const pb::Message& request,
                                                std::function<void()> wake) {
  ASSIGN_OR_RETURN(FilterNode filter,
                   ParseOptionalFilter(e.endpoint().schema, StringField(request, "filter_json")));
  RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, e.endpoint(), &filter));
  // `shown` lives in the caller's policy: the renderer keeps the caller.
  return ChangeStream::Open(
      *api.store, e.endpoint(), std::move(filter), BoolField(request, "snapshot"),
      [schema = &e.endpoint().schema, shown = e.shown_columns(), caller = std::move(caller)](
          const StreamEvent& event) { return RenderEvent(*schema, shown, event); },
      std::move(wake));
}

}  // namespace

const pb::Message* TypedServices::Prototype(const std::string& simple_name) {
  const pb::Descriptor* d =
      file_->pool()->FindMessageTypeByName(std::string(kEndpointsPackage) + "." + simple_name);
  return d ? factory_.GetPrototype(d) : nullptr;
}

Status TypedServices::Register(GenericCalls* calls) {
  if (size_t(file_->service_count()) != api_.endpoints.size()) {
    return Internal("the typed gRPC file does not match the endpoints");
  }
  const pb::Message* query = Prototype("QueryRequest");
  const pb::Message* count = Prototype("CountRequest");
  const pb::Message* subscribe = Prototype("SubscribeRequest");
  if (!query || !count || !subscribe) return Internal("the typed gRPC file lacks its requests");
  const ApiContext* api = &api_;
  for (const ServedEndpoint& served : api_.endpoints) {
    const ServedEndpoint* e = &served;
    const std::string prefix = "/" + e->proto.FullService() + "/";
    auto unary = [&](const char* method, const pb::Message* prototype, auto run) {
      calls->AddUnary(prefix + method,
                      [api, e, prototype, run](const std::shared_ptr<const Caller>& caller,
                                               const std::string& bytes) -> Result<std::string> {
                        ASSIGN_OR_RETURN(AuthorizedEndpoint allowed,
                                         api->Authorize(*e, caller.get()));
                        ASSIGN_OR_RETURN(auto request, ParseRequest(prototype, bytes));
                        return run(*api, allowed, *request);
                      });
    };
    unary("Query", query, Query);
    unary("Count", count, Count);
    if (!e->proto.get_request.empty()) {
      const pb::Message* get = Prototype(e->proto.get_request);
      if (!get) return Internal("the typed gRPC file lacks " + e->proto.get_request);
      unary("Get", get, Get);
    }
    calls->AddStream(
        prefix + "Subscribe",
        [api, e, subscribe](const std::shared_ptr<const Caller>& caller, const std::string& bytes,
                            std::function<void()> wake) -> Result<std::unique_ptr<ChangeStream>> {
          ASSIGN_OR_RETURN(AuthorizedEndpoint allowed, api->Authorize(*e, caller.get()));
          ASSIGN_OR_RETURN(auto request, ParseRequest(subscribe, bytes));
          return Subscribe(*api, allowed, caller, *request, std::move(wake));
        });
  }
  return Status::OK();
}

}  // namespace sluice::grpc_api
