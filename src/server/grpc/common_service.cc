#include "server/grpc/common_service.h"

#include "cache/query.h"
#include "cache/query_parser.h"
#include "server/grpc/api_context.h"
#include "server/grpc/call_auth.h"
#include "server/grpc/generic_call.h"
#include "server/grpc/grpc_status.h"
#include "sluice/v1/sluice.grpc.pb.h"
#include "types/row_json.h"

namespace sluice::grpc_api {
namespace {

namespace v1 = ::sluice::v1;

// The endpoint as `access` shows it: only the fields the caller may see.
void FillEndpoint(const ServedEndpoint& served, const EndpointAccess& access, v1::Endpoint* out) {
  const RestEndpoint& e = served.endpoint;
  out->set_name(e.name);
  out->set_path(e.path);
  out->set_table(e.table);
  for (size_t k : e.schema.primary_key) out->add_primary_key(e.schema.fields[k].name);
  for (size_t i = 0; i < e.schema.fields.size(); ++i) {
    if (!access.Allows(i)) continue;
    const Field& f = e.schema.fields[i];
    v1::Field* field = out->add_fields();
    field->set_name(f.name);
    field->set_type(std::string(FieldTypeName(f.type)));
    field->set_nullable(f.nullable);
    field->set_proto_name(served.proto.fields[i]);
  }
  out->set_typed_service(served.proto.FullService());
  out->set_record_message(served.proto.FullRecord());
}

// Every method first authenticates the call (call_auth.h) and checks the caller's access to
// the endpoint it names, then runs what REST runs for the same request within that access.
class CommonService final
    : public v1::Sluice::WithGenericMethod_Subscribe<v1::Sluice::CallbackService> {
 public:
  explicit CommonService(const ApiContext& api) : api_(api) {}

  grpc::ServerUnaryReactor* ListEndpoints(grpc::CallbackServerContext* ctx,
                                          const v1::ListEndpointsRequest*,
                                          v1::ListEndpointsResponse* response) override {
    auto caller = AuthenticateCall(api_.authenticator, *ctx);
    if (!caller.ok()) return Done(ctx, caller.status());
    response->set_app(api_.app_name);
    for (const ServedEndpoint& e : api_.endpoints) {
      Result<AuthorizedEndpoint> allowed = api_.Authorize(e, caller->get());
      if (allowed.ok()) FillEndpoint(e, *allowed->access, response->add_endpoints());
    }
    return Done(ctx, Status::OK());
  }

  grpc::ServerUnaryReactor* GetSchema(grpc::CallbackServerContext* ctx,
                                      const v1::GetSchemaRequest* request,
                                      v1::GetSchemaResponse* response) override {
    auto caller = AuthenticateCall(api_.authenticator, *ctx);
    if (!caller.ok()) return Done(ctx, caller.status());
    Result<AuthorizedEndpoint> e = api_.Authorize(request->endpoint(), caller->get());
    if (!e.ok()) return Done(ctx, e.status());
    FillEndpoint(*e->served, *e->access, response->mutable_endpoint());
    return Done(ctx, Status::OK());
  }

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* ctx, const v1::QueryRequest* request,
                                  v1::QueryResponse* response) override {
    auto caller = AuthenticateCall(api_.authenticator, *ctx);
    if (!caller.ok()) return Done(ctx, caller.status());
    return Done(ctx, RunQueryRequest(caller->get(), *request, response));
  }

  grpc::ServerUnaryReactor* Count(grpc::CallbackServerContext* ctx, const v1::CountRequest* request,
                                  v1::CountResponse* response) override {
    auto caller = AuthenticateCall(api_.authenticator, *ctx);
    if (!caller.ok()) return Done(ctx, caller.status());
    return Done(ctx, RunCountRequest(caller->get(), *request, response));
  }

  grpc::ServerUnaryReactor* Explain(grpc::CallbackServerContext* ctx,
                                    const v1::ExplainRequest* request,
                                    v1::ExplainResponse* response) override {
    auto caller = AuthenticateCall(api_.authenticator, *ctx);
    if (!caller.ok()) return Done(ctx, caller.status());
    return Done(ctx, RunExplainRequest(caller->get(), *request, response));
  }

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const Status& status) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }

  Status RunQueryRequest(const Caller* caller, const v1::QueryRequest& request,
                         v1::QueryResponse* response) const {
    ASSIGN_OR_RETURN(AuthorizedEndpoint e, api_.Authorize(request.endpoint(), caller));
    const RestEndpoint& endpoint = e.endpoint();
    ASSIGN_OR_RETURN(QuerySpec spec,
                     ParseQueryJson(endpoint.schema, request.query_json(), QueryBodyKind::kQuery));
    RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, endpoint, &spec));
    const std::vector<std::string>& prefixes = e.json_prefixes();
    ASSIGN_OR_RETURN(ReadView view, api_.store->BeginRead());
    Status row_status;
    std::optional<std::string> next_cursor;
    RETURN_IF_ERROR(RunQuery(
        view, endpoint.cache_table, spec,
        [&](std::string_view row) {
          row_status = AppendRowJson(endpoint.schema, row, prefixes, response->add_records());
          return row_status.ok();
        },
        &next_cursor));
    RETURN_IF_ERROR(row_status);
    if (next_cursor) response->set_next_cursor(*next_cursor);
    return Status::OK();
  }

  Status RunCountRequest(const Caller* caller, const v1::CountRequest& request,
                         v1::CountResponse* response) const {
    ASSIGN_OR_RETURN(AuthorizedEndpoint e, api_.Authorize(request.endpoint(), caller));
    ASSIGN_OR_RETURN(FilterNode filter,
                     ParseOptionalFilter(e.endpoint().schema, request.filter_json()));
    RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, e.endpoint(), &filter));
    ASSIGN_OR_RETURN(ReadView view, api_.store->BeginRead());
    ASSIGN_OR_RETURN(uint64_t count, CountQuery(view, e.endpoint().cache_table, filter));
    response->set_count(count);
    return Status::OK();
  }

  Status RunExplainRequest(const Caller* caller, const v1::ExplainRequest& request,
                           v1::ExplainResponse* response) const {
    ASSIGN_OR_RETURN(AuthorizedEndpoint e, api_.Authorize(request.endpoint(), caller));
    ASSIGN_OR_RETURN(QuerySpec spec, ParseQueryJson(e.endpoint().schema, request.query_json(),
                                                    QueryBodyKind::kExplain));
    RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, e.endpoint(), &spec));
    ASSIGN_OR_RETURN(ReadView view, api_.store->BeginRead());
    ASSIGN_OR_RETURN(std::string plan, ExplainQuery(view, e.endpoint().cache_table, spec));
    response->set_plan_json(std::move(plan));
    return Status::OK();
  }

  const ApiContext& api_;
};

// Subscribe: JSON events (sluice.v1.ChangeEvent) from the shared change-stream path, with the
// caller's row filter ANDed in and only its visible fields in the records.
Result<std::unique_ptr<ChangeStream>> OpenSubscription(const ApiContext& api,
                                                       const std::shared_ptr<const Caller>& caller,
                                                       const std::string& bytes,
                                                       std::function<void()> wake) {
  v1::SubscribeRequest request;
  if (!request.ParseFromString(bytes)) {
    return InvalidArgument("the request is not a sluice.v1.SubscribeRequest");
  }
  ASSIGN_OR_RETURN(AuthorizedEndpoint e, api.Authorize(request.endpoint(), caller.get()));
  const RestEndpoint* endpoint = &e.endpoint();
  ASSIGN_OR_RETURN(FilterNode filter, ParseOptionalFilter(endpoint->schema, request.filter_json()));
  RETURN_IF_ERROR(AccessPolicy::Apply(*e.access, *endpoint, &filter));
  // The prefixes live in the endpoint or in the caller's policy: the renderer keeps both.
  auto render = [endpoint, caller,
                 prefixes = &e.json_prefixes()](const StreamEvent& event) -> Result<std::string> {
    v1::ChangeEvent out;
    out.set_kind(static_cast<v1::ChangeKind>(event.kind));
    out.set_epoch(event.epoch);
    out.set_snapshot(event.snapshot);
    if (!event.old_row.empty()) {
      RETURN_IF_ERROR(
          AppendRowJson(endpoint->schema, event.old_row, *prefixes, out.mutable_old_record()));
    }
    if (!event.new_row.empty()) {
      RETURN_IF_ERROR(
          AppendRowJson(endpoint->schema, event.new_row, *prefixes, out.mutable_new_record()));
    }
    return out.SerializeAsString();
  };
  return ChangeStream::Open(*api.store, *endpoint, std::move(filter), request.snapshot(),
                            std::move(render), std::move(wake));
}

}  // namespace

std::unique_ptr<grpc::Service> MakeCommonService(const ApiContext& api, GenericCalls* calls) {
  calls->AddStream("/" + CommonServiceName() + "/Subscribe",
                   [&api](const std::shared_ptr<const Caller>& caller, const std::string& request,
                          std::function<void()> wake) {
                     return OpenSubscription(api, caller, request, std::move(wake));
                   });
  return std::make_unique<CommonService>(api);
}

const google::protobuf::FileDescriptor* CommonServiceFile() {
  return v1::ListEndpointsRequest::descriptor()->file();
}

std::string CommonServiceName() { return v1::Sluice::service_full_name(); }

}  // namespace sluice::grpc_api
