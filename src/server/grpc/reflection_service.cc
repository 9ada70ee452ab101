#include "server/grpc/reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "grpc/health/v1/health.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "server/grpc/call_auth.h"
#include "server/grpc/grpc_status.h"

namespace sluice::grpc_api {
namespace {

namespace pb = google::protobuf;
namespace rv = ::grpc::reflection::v1alpha;

class ReflectionService final : public rv::ServerReflection::CallbackService {
 public:
  ReflectionService(const pb::DescriptorPool* pool, std::vector<std::string> services,
                    const Authenticator* authenticator)
      : pool_(pool), services_(std::move(services)), authenticator_(authenticator) {}

  grpc::ServerBidiReactor<rv::ServerReflectionRequest, rv::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* ctx) override {
    // Any valid token may read the contracts (as REST's /openapi.json); none: refused.
    Result<std::shared_ptr<const Caller>> caller = AuthenticateCall(authenticator_, *ctx);
    return new Reactor(this, caller.ok() ? grpc::Status::OK : ToGrpcStatus(caller.status()));
  }

 private:
  // Answers requests one at a time, in order: read, answer, write, read again.
  class Reactor final
      : public grpc::ServerBidiReactor<rv::ServerReflectionRequest, rv::ServerReflectionResponse> {
   public:
    // A call refused with `refusal` ends at once, before reading anything.
    Reactor(const ReflectionService* service, const grpc::Status& refusal) : service_(service) {
      if (!refusal.ok()) {
        Finish(refusal);
        return;
      }
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {  // the client half-closed (or went away): done
        Finish(grpc::Status::OK);
        return;
      }
      response_.Clear();
      service_->Answer(request_, &response_);
      StartWrite(&response_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
        return;
      }
      StartRead(&request_);
    }
    void OnDone() override { delete this; }

   private:
    const ReflectionService* service_;
    rv::ServerReflectionRequest request_;
    rv::ServerReflectionResponse response_;
  };

  void Answer(const rv::ServerReflectionRequest& request,
              rv::ServerReflectionResponse* response) const {
    response->set_valid_host(request.host());
    *response->mutable_original_request() = request;
    auto not_found = [&](const std::string& what) {
      rv::ErrorResponse* error = response->mutable_error_response();
      error->set_error_code(int(grpc::StatusCode::NOT_FOUND));
      error->set_error_message(what + " not found");
    };
    switch (request.message_request_case()) {
      case rv::ServerReflectionRequest::kFileByFilename: {
        const pb::FileDescriptor* file = pool_->FindFileByName(request.file_by_filename());
        if (!file) return not_found("file " + request.file_by_filename());
        return AddFileWithDependencies(file, response);
      }
      case rv::ServerReflectionRequest::kFileContainingSymbol: {
        const pb::FileDescriptor* file =
            pool_->FindFileContainingSymbol(request.file_containing_symbol());
        if (!file) return not_found("symbol " + request.file_containing_symbol());
        return AddFileWithDependencies(file, response);
      }
      case rv::ServerReflectionRequest::kFileContainingExtension: {
        const auto& ext = request.file_containing_extension();
        const pb::Descriptor* type = pool_->FindMessageTypeByName(ext.containing_type());
        const pb::FieldDescriptor* field =
            type ? pool_->FindExtensionByNumber(type, ext.extension_number()) : nullptr;
        if (!field) return not_found("extension");
        return AddFileWithDependencies(field->file(), response);
      }
      case rv::ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const pb::Descriptor* type =
            pool_->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (!type) return not_found("type " + request.all_extension_numbers_of_type());
        std::vector<const pb::FieldDescriptor*> extensions;
        pool_->FindAllExtensions(type, &extensions);
        rv::ExtensionNumberResponse* out = response->mutable_all_extension_numbers_response();
        out->set_base_type_name(type->full_name());
        for (const auto* f : extensions) out->add_extension_number(f->number());
        return;
      }
      case rv::ServerReflectionRequest::kListServices: {
        rv::ListServiceResponse* out = response->mutable_list_services_response();
        for (const std::string& name : services_) out->add_service()->set_name(name);
        return;
      }
      default: {
        rv::ErrorResponse* error = response->mutable_error_response();
        error->set_error_code(int(grpc::StatusCode::UNIMPLEMENTED));
        error->set_error_message("unknown reflection request");
      }
    }
  }

  // The file first, then every file it depends on, directly or not (each once).
  static void AddFileWithDependencies(const pb::FileDescriptor* file,
                                      rv::ServerReflectionResponse* response) {
    rv::FileDescriptorResponse* out = response->mutable_file_descriptor_response();
    std::vector<const pb::FileDescriptor*> pending = {file};
    std::set<std::string> seen = {file->name()};
    while (!pending.empty()) {
      const pb::FileDescriptor* next = pending.back();
      pending.pop_back();
      pb::FileDescriptorProto proto;
      next->CopyTo(&proto);
      out->add_file_descriptor_proto(proto.SerializeAsString());
      for (int i = 0; i < next->dependency_count(); ++i) {
        const pb::FileDescriptor* dep = next->dependency(i);
        if (seen.insert(dep->name()).second) pending.push_back(dep);
      }
    }
  }

  const pb::DescriptorPool* pool_;
  const std::vector<std::string> services_;
  const Authenticator* const authenticator_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeReflectionService(const pb::DescriptorPool* pool,
                                                     std::vector<std::string> services,
                                                     const Authenticator* authenticator) {
  return std::make_unique<ReflectionService>(pool, std::move(services), authenticator);
}

std::string ReflectionServiceName() { return rv::ServerReflection::service_full_name(); }

std::string HealthServiceName() {
  // Referencing the message keeps health.pb.cc (its descriptor) linked in.
  return ::grpc::health::v1::HealthCheckRequest::descriptor()->file()->service(0)->full_name();
}

}  // namespace sluice::grpc_api
