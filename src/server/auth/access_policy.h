// AccessPolicy: what a verified token's `access` claim allows (docs/auth.md):
//   "all", or {"endpoints": {"<name>": {"filter": <query-language filter>, "fields": [..]}}}.
// For an allowed endpoint: a row filter ANDed into every read, and optionally the columns
// that may be returned, filtered and ordered on. Endpoints not listed are forbidden.
// Independent of any transport: REST, gRPC and live routes ask the same questions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/query_spec.h"
#include "common/status.h"
#include "server/endpoint.h"

namespace sluice {

struct EndpointAccess {
  FilterNode filter;                        // kTrue when the claim sets none
  std::optional<std::vector<bool>> fields;  // allowed columns; nullopt = all
  // With `fields`: JSON field prefixes with the hidden columns' left empty (row_json.h).
  std::vector<std::string> json_prefixes;
  bool Allows(size_t column) const { return !fields || (*fields)[column]; }
};

class AccessPolicy {
 public:
  static AccessPolicy All() { return AccessPolicy(); }
  // InvalidArgument for a claim that is not "all" or an {"endpoints": {..}} object. Entries
  // for endpoints this app does not have are ignored; an entry whose filter or fields do not
  // fit its endpoint forbids that endpoint (and says why in `problems`).
  static Result<AccessPolicy> Parse(std::string_view access_json,
                                    const std::vector<RestEndpoint>& endpoints);

  bool all() const { return all_; }
  // Null when `endpoint` is forbidden.
  const EndpointAccess* For(const std::string& endpoint) const;
  // Why an endpoint is forbidden although listed ("" when it is not listed at all).
  std::string Problem(const std::string& endpoint) const;

  // A request's query (or filter) within the caller's rights: PermissionDenied naming the
  // first hidden column it filters or orders on; otherwise the access filter is ANDed in.
  static Status Apply(const EndpointAccess& access, const RestEndpoint& endpoint, QuerySpec* spec);
  static Status Apply(const EndpointAccess& access, const RestEndpoint& endpoint,
                      FilterNode* filter);

 private:
  bool all_ = true;
  std::map<std::string, EndpointAccess> endpoints_;
  std::map<std::string, std::string> problems_;
};

}  // namespace sluice
