// Stored rows straight to the protobuf wire form of an endpoint's typed record message
// (endpoint_proto.h), without building messages: the typed services' hot path. Field i of the
// schema is field number i + 1; NULL fields are left out (presence = not NULL). And the way
// back for request fields: a typed value of a parsed request message as a Value.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice::grpc_api {

// Protobuf wire primitives (protobuf.dev/programming-guides/encoding).
enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };
void AppendTag(int field_number, WireType type, std::string* out);
void AppendVarintField(int field_number, uint64_t value, std::string* out);
void AppendBytesField(int field_number, std::string_view bytes, std::string* out);

// Appends the record message encoding of `row` (row codec bytes of `schema`). With `shown`
// (a caller's visible columns, access_policy.h), columns it marks false are left out like
// NULLs: absent on the wire, so a hidden non-optional scalar reads as its default.
Status AppendRecordWire(const Schema& schema, std::string_view row, std::string* out,
                        const std::vector<bool>* shown = nullptr);

// Field `field` of a parsed request message as a Value of the column type `type` (the
// mapping of endpoint_proto.h read backwards); NULL when the field is not set.
Result<Value> ValueFromMessageField(const google::protobuf::Message& message,
                                    const google::protobuf::FieldDescriptor* field, FieldType type);

}  // namespace sluice::grpc_api
